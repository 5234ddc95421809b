/**
 * Shared pieces of the request validators. Meta answers a missing or mistyped parameter with
 * code 100 ("Invalid parameter") and a value outside its limits with code 131009 ("Parameter value
 * is not valid"); `details` names the parameter with Meta's `a['b'][0]` notation.
 *
 * Lengths: Meta counts characters; JS `length` counts UTF-16 code units, so an emoji outside the
 * BMP counts 2 here. Close enough for a simulator, and errs on the strict side.
 */

export interface Violation {
  code: 100 | 131009;
  details: string;
}

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export const required = (path: string): Violation => ({ code: 100, details: `The parameter ${path} is required.` });

export const wrongType = (path: string, expected: string): Violation => ({
  code: 100,
  details: `Param ${path} must be ${expected}.`,
});

export const tooLong = (path: string, max: number): Violation => ({
  code: 131009,
  details: `Param ${path} must be at most ${max} characters long.`,
});

export const invalidValue = (details: string): Violation => ({ code: 131009, details });

/** Checks a required string: present, a string, not empty, at most `max` characters. */
export function requiredText(value: unknown, path: string, max: number): Violation | null {
  if (value === undefined || value === null || value === '') return required(path);
  if (typeof value !== 'string') return wrongType(path, 'a string');
  return value.length > max ? tooLong(path, max) : null;
}

/** Checks an optional string: absent is fine, otherwise a string of at most `max` characters. */
export function optionalText(value: unknown, path: string, max: number): Violation | null {
  if (value === undefined) return null;
  if (typeof value !== 'string') return wrongType(path, 'a string');
  return value.length > max ? tooLong(path, max) : null;
}

/** First non-null result, so validators read as a flat list of checks. */
export function firstViolation(...checks: (() => Violation | null)[]): Violation | null {
  for (const check of checks) {
    const v = check();
    if (v) return v;
  }
  return null;
}
