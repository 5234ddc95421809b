/**
 * The text a failed download leaves in `mensajes.media_error`, for the CRM and for operators:
 * a stable reason first (`media_not_found`, `too_large`, `sha256_mismatch`, …), then the facts.
 * Built from the error code, never from parsing messages.
 */
import { isAppError, type ErrorCode } from '../errors.js';
import { backoffMs } from '../shared/backoff.js';

const REASONS: Partial<Record<ErrorCode, string>> = {
  MEDIA_NOT_FOUND: 'media_not_found',
  MEDIA_TOO_LARGE: 'too_large',
  MEDIA_CHECKSUM_MISMATCH: 'sha256_mismatch',
  MEDIA_URL_EXPIRED: 'download_url_expired',
  MEDIA_UNAVAILABLE: 'download_failed',
  MEDIA_REJECTED: 'media_rejected',
  MEDIA_STORE_FAILED: 'store_failed',
};

export function mediaErrorText(err: unknown): string {
  if (isAppError(err)) return `${REASONS[err.code] ?? err.code.toLowerCase()}: ${err.message}`.slice(0, 1000);
  return `internal: ${err instanceof Error ? err.message : String(err)}`.slice(0, 1000);
}

/** Backoff before the next attempt (attempt ≥ 1): 5 s, 10 s, 20 s … capped at 15 min, so ten attempts span a Graph outage of about half an hour. */
export function mediaBackoffMs(attempt: number, baseMs = 5_000): number {
  return backoffMs(attempt, { baseMs, capMs: 15 * 60_000 });
}
