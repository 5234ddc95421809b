/**
 * Every failure the router reports carries a stable code; callers branch on `code`, never on the
 * message. HTTP status and retryability travel with the error so the edges (HTTP handler, job
 * processor) need no table of their own.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'INBOX_SECRET_MISSING'
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
  | 'DB_CONFLICT'
  | 'DB_ERROR'
  | 'MIGRATION_FAILED'
  | 'DATA_BLOCKED'
  | 'CRM_FIX_NOT_READY'
  | 'CRM_FIX_FAILED'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'VALIDATION_FAILED'
  | 'OUTSIDE_WINDOW'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'RATE_LIMITED'
  | 'MEDIA_LINK_INVALID'
  | 'MEDIA_NOT_FOUND'
  | 'MEDIA_TOO_LARGE'
  | 'MEDIA_CHECKSUM_MISMATCH'
  | 'MEDIA_URL_EXPIRED'
  | 'MEDIA_UNAVAILABLE'
  | 'MEDIA_REJECTED'
  | 'MEDIA_STORE_FAILED'
  | 'INTERNAL';

const STATUS: Record<ErrorCode, number> = {
  CONFIG_INVALID: 500,
  INBOX_SECRET_MISSING: 500,
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
  DB_CONFLICT: 503,
  DB_ERROR: 500,
  MIGRATION_FAILED: 500,
  DATA_BLOCKED: 500,
  CRM_FIX_NOT_READY: 409,
  CRM_FIX_FAILED: 500,
  NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  VALIDATION_FAILED: 400,
  OUTSIDE_WINDOW: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
  MEDIA_LINK_INVALID: 403,
  MEDIA_NOT_FOUND: 404,
  MEDIA_TOO_LARGE: 413,
  MEDIA_CHECKSUM_MISMATCH: 502,
  MEDIA_URL_EXPIRED: 502,
  MEDIA_UNAVAILABLE: 503,
  MEDIA_REJECTED: 502,
  MEDIA_STORE_FAILED: 503,
  INTERNAL: 500,
};

// A media checksum mismatch is retried too: a truncated or corrupted transfer is the likely cause,
// and a fresh download costs little next to losing the file.
const RETRYABLE = new Set<ErrorCode>([
  'STORE_UNAVAILABLE',
  'QUEUE_UNAVAILABLE',
  'DB_TIMEOUT',
  'DB_CONFLICT',
  'MEDIA_CHECKSUM_MISMATCH',
  'MEDIA_URL_EXPIRED',
  'MEDIA_UNAVAILABLE',
  'MEDIA_STORE_FAILED',
]);

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  /** Safe, structured facts for logs and API bodies (never secrets or message text). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = STATUS[code];
    this.retryable = RETRYABLE.has(code);
    this.details = options.details;
  }
}

export const isAppError = (err: unknown): err is AppError => err instanceof AppError;

export const badPayload = (
  code: 'PAYLOAD_NOT_JSON' | 'PAYLOAD_NOT_ENVELOPE',
  message: string,
  details?: Record<string, unknown>,
) => new AppError(code, message, details ? { details } : {});
