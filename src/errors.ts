/**
 * Every failure the router reports carries a stable code; callers branch on `code`, never on the
 * message. HTTP status and retryability travel with the error so the edges (HTTP handler, job
 * processor) need no table of their own.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_MALFORMED'
  | 'SIGNATURE_INVALID'
  | 'PAYLOAD_NOT_JSON'
  | 'PAYLOAD_NOT_ENVELOPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'VERIFY_TOKEN_MISMATCH'
  | 'STORE_UNAVAILABLE'
  | 'QUEUE_UNAVAILABLE'
  | 'DB_TIMEOUT'
  | 'DB_DUPLICATE'
  | 'DB_ERROR'
  | 'LEASE_LOST'
  | 'MIGRATION_FAILED'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'VALIDATION_FAILED'
  | 'OUTSIDE_WINDOW'
  | 'RATE_LIMITED'
  | 'INTERNAL';

const STATUS: Record<ErrorCode, number> = {
  CONFIG_INVALID: 500,
  SIGNATURE_MISSING: 401,
  SIGNATURE_MALFORMED: 401,
  SIGNATURE_INVALID: 403,
  PAYLOAD_NOT_JSON: 400,
  PAYLOAD_NOT_ENVELOPE: 400,
  PAYLOAD_TOO_LARGE: 413,
  VERIFY_TOKEN_MISMATCH: 403,
  STORE_UNAVAILABLE: 503,
  QUEUE_UNAVAILABLE: 503,
  DB_TIMEOUT: 503,
  DB_DUPLICATE: 409,
  DB_ERROR: 500,
  LEASE_LOST: 409,
  MIGRATION_FAILED: 500,
  NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  VALIDATION_FAILED: 400,
  OUTSIDE_WINDOW: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
};

const RETRYABLE = new Set<ErrorCode>(['STORE_UNAVAILABLE', 'QUEUE_UNAVAILABLE', 'DB_TIMEOUT', 'LEASE_LOST']);

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  /** Safe, structured facts for logs and API bodies (never secrets or message text). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = STATUS[code];
    this.retryable = RETRYABLE.has(code);
    this.details = options.details;
  }
}

export const isAppError = (err: unknown): err is AppError => err instanceof AppError;

export const badPayload = (code: 'PAYLOAD_NOT_JSON' | 'PAYLOAD_NOT_ENVELOPE', message: string, details?: Record<string, unknown>) =>
  new AppError(code, message, details ? { details } : {});

export const storeUnavailable = (cause: unknown) =>
  new AppError('STORE_UNAVAILABLE', 'the database cannot be reached', { cause });

export const internal = (message: string, cause?: unknown) => new AppError('INTERNAL', message, { cause });
