import { createHmac, randomBytes } from 'node:crypto';
import { isAppError } from '../errors.js';

/**
 * What processing may put in a log line about a conversation or an error. A conversation key is
 * `<phone_number_id>:<customer phone>`, and a database error may quote a value (a CRM trigger's
 * `RAISE EXCEPTION '… %', NEW.telefono`), so neither goes into a log as it is.
 */

// Per process: the reference correlates this process's lines, and with no shared key it cannot be
// turned back into a phone by hashing every number (the space of phones is small).
const KEY = randomBytes(32);

/** `c:<12 hex>` for a conversation key; status keys (`status#<journal id>`) hold no phone and pass. */
export function keyRef(key: string): string {
  if (key.startsWith('status#')) return key;
  return `c:${createHmac('sha256', KEY).update(key).digest('hex').slice(0, 12)}`;
}

/** Runs of 6+ digits (phones, with or without +, spaces or dashes inside) become `#…`. */
const DIGIT_RUNS = /\+?\d[\d\s-]{4,}\d/g;
export const maskDigits = (text: string): string => text.replace(DIGIT_RUNS, '#…');

/** Code and message of an error for a log line, digit runs masked. */
export function errInfo(err: unknown): { code?: string; message: string } {
  if (isAppError(err)) return { code: err.code, message: maskDigits(err.message) };
  return { message: maskDigits(err instanceof Error ? err.message : String(err)) };
}

/** The error as the journal keeps it (`router_eventos.error`): in the database, so unmasked. */
export const describeError = (err: unknown): string =>
  isAppError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
