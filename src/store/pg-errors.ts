import { AppError } from '../errors.js';

/** Node socket errors that mean "the database is not there right now". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLSTATEs that mean the same thing from the server's side. */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '53400']);

/**
 * "No space left": PostgreSQL's disk_full (53100, raised when a relation or WAL file cannot grow) or
 * the OS's ENOSPC. The database still reads, but cannot take the batch: for Meta that is the same as
 * an outage (503, it retries), never a 500 — and /ready must say so (no-space-watch.ts).
 */
const NO_SPACE_MESSAGE = /no space left on device/i;
export const DISK_FULL_REASON = 'disk_full';

const CONNECTION_MESSAGES =
  /connection terminated|connection timeout|timeout exceeded when trying to connect|client has encountered a connection error|not queryable|cannot use a pool after calling end/i;

/**
 * Translates a driver error into an AppError by SQLSTATE (class 08 = connection exception) or socket
 * code, so that callers branch on codes: STORE_UNAVAILABLE becomes 503 for Meta (which retries),
 * anything else stays a bug-level DB_ERROR.
 */
export function translatePgError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (code === '53100' || code === 'ENOSPC' || NO_SPACE_MESSAGE.test(message)) {
    return new AppError('STORE_UNAVAILABLE', 'the database has no space left to write', {
      cause: err,
      details: { dbCode: code || undefined, reason: DISK_FULL_REASON },
    });
  }
  if (
    NETWORK_CODES.has(code) ||
    code.startsWith('08') ||
    UNAVAILABLE_STATES.has(code) ||
    CONNECTION_MESSAGES.test(message)
  ) {
    return new AppError('STORE_UNAVAILABLE', 'the database cannot be reached', {
      cause: err,
      details: { dbCode: code || undefined },
    });
  }
  if (code === '57014') return new AppError('DB_TIMEOUT', 'statement timed out', { cause: err });
  // Deadlock or serialization failure: the statement lost a race and was undone; running it again succeeds.
  if (code === '40P01' || code === '40001')
    return new AppError('DB_CONFLICT', 'lost a lock race; retry', { cause: err, details: { dbCode: code } });
  if (code === '23505') return new AppError('DB_DUPLICATE', 'duplicate key', { cause: err, details: { dbCode: code } });
  return new AppError('DB_ERROR', `database error: ${message}`, { cause: err, details: { dbCode: code || undefined } });
}
