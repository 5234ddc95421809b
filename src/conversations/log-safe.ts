import { isAppError } from '../errors.js';
import { hashId, scrubText } from '../log-safety.js';

/**
 * What processing may put in a log line about a conversation or an error. A conversation key is
 * `<phone_number_id>:<customer phone>`, and a database error may quote a value (a CRM trigger's
 * `RAISE EXCEPTION '… %', NEW.telefono`), so neither goes into a log as it is (log-safety.ts does
 * the hashing and the masking for every module).
 */

/** `c:<hash>` for a conversation key; status keys (`status#<journal id>`) hold no phone and pass. */
export function keyRef(key: string): string {
  if (key.startsWith('status#')) return key;
  return `c:${hashId(key) ?? ''}`;
}

/** Code and message of an error for a log line, wamids and digit runs masked. */
export function errInfo(err: unknown): { code?: string; message: string } {
  if (isAppError(err)) return { code: err.code, message: scrubText(err.message) };
  return { message: scrubText(err instanceof Error ? err.message : String(err)) };
}

/** The error as the journal keeps it (`router_eventos.error`): in the database, so unmasked. */
export const describeError = (err: unknown): string =>
  isAppError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
