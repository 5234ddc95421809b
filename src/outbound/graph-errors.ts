/**
 * How the sender reacts to a Graph API failure, by Meta error code first and HTTP status second
 * (Cloud API error codes: developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
 *   throttle  — 130429 throughput, 131056 pair rate, 4/80007 app/WABA rate, HTTP 429: wait longer, retry;
 *               not a sign Graph is down, so it does not count for the circuit breaker.
 *   transient — 131000 something went wrong, 131016 service unavailable, 1/2, 5xx, network, timeout:
 *               retry with backoff; counts for the circuit breaker.
 *   auth      — 190/0/10 token or permission problems: every send would fail the same way, so keep
 *               the messages (retry) and trip the breaker until an operator fixes the token.
 *   permanent — 131047 outside the 24 h window, 131026 undeliverable, other 4xx: no retry, `fallido`.
 */
import { backoffMs } from '../shared/backoff.js';
export type FailureKind = 'throttle' | 'transient' | 'auth' | 'permanent';

const THROTTLE_CODES = new Set([130429, 131056, 4, 80007, 613]);
const TRANSIENT_CODES = new Set([131000, 131016, 1, 2, 133004]);
const AUTH_CODES = new Set([190, 0, 10, 200]);

export class GraphApiError extends Error {
  constructor(
    readonly httpStatus: number | null,
    readonly metaCode: number | null,
    readonly title: string,
    readonly kind: FailureKind,
    /** Meta's `error_data.details`, when it sent one. */
    readonly details: string | null = null,
  ) {
    super(`Graph API ${httpStatus ?? 'network'} ${metaCode ?? ''} ${title}`.trim());
    this.name = 'GraphApiError';
  }

  /** As mensajes.error_mensaje shows Meta's errors, the same for a refused send and a failed status
   * ("131047: Re-engagement message — details"; tick-flags.ts META_ERROR_TEXT). */
  get crmText(): string {
    const head = this.metaCode !== null ? `${this.metaCode}: ${this.title}` : this.message;
    return this.details ? `${head} — ${this.details}` : head;
  }
}

export function classifyGraphFailure(httpStatus: number | null, metaCode: number | null): FailureKind {
  if (metaCode !== null) {
    if (THROTTLE_CODES.has(metaCode)) return 'throttle';
    if (TRANSIENT_CODES.has(metaCode)) return 'transient';
    if (AUTH_CODES.has(metaCode)) return 'auth';
  }
  if (httpStatus === null || httpStatus >= 500 || httpStatus === 408) return 'transient';
  if (httpStatus === 429) return 'throttle';
  if (httpStatus === 401) return 'auth';
  return 'permanent';
}

/** Backoff before the next attempt (attempt ≥ 1). Pair-rate limits need the longest pause. */
export function backoffFor(kind: FailureKind, metaCode: number | null, attempt: number): number {
  if (kind === 'throttle') return backoffMs(attempt, { baseMs: metaCode === 131056 ? 6_000 : 1_000, capMs: 60_000 });
  return backoffMs(attempt, { baseMs: 500, capMs: 60_000 });
}
