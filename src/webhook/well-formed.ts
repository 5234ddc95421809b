/**
 * Well-formed Unicode for what goes into jsonb. JSON may carry a lone UTF-16 surrogate as an escape
 * (`"\ud800"`); JavaScript keeps it, but PostgreSQL refuses it in jsonb, and one such string failed
 * the whole batch's INSERT. UTF-8 bytes cannot encode a surrogate, so only a body that holds a
 * `\uD800`–`\uDFFF` escape can carry one: callers check the raw text first and skip this walk
 * otherwise (see parse-events.ts).
 */

/** A high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** The raw body may hold a surrogate escape (a pair for an emoji, or a lone one). */
export const mayHoldSurrogates = (rawJson: string): boolean => /\\u[dD][89a-fA-F]/.test(rawJson);

/** True when every string (keys included) anywhere in `value` is well-formed UTF-16. */
export function isWellFormedDeep(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return false;
    } else if (Array.isArray(v)) {
      stack.push(...v);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (LONE_SURROGATE.test(k)) return false;
        stack.push(child);
      }
    }
  }
  return true;
}

/** A copy of `value` with every lone surrogate (in keys too) replaced by U+FFFD, for audit rows. */
export function toWellFormedDeep<T>(value: T): T {
  return fix(value) as T;
}

function fix(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(LONE_SURROGATES, '\uFFFD');
  if (Array.isArray(v)) return v.map(fix);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v).map(([k, child]) => [k.replace(LONE_SURROGATES, '\uFFFD'), fix(child)]),
    );
  }
  return v;
}
