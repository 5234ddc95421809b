/**
 * The one retry backoff of the router: `baseMs` doubled per attempt, capped at `capMs`. Attempt 1
 * waits `baseMs`. Every retry path picks its own base and cap (Graph sends, inbox notifications,
 * media downloads, failed messages); the shape is the same everywhere. The exponent is bounded so
 * a large attempt count cannot overflow to Infinity.
 */
export interface Backoff {
  baseMs: number;
  capMs: number;
}

export function backoffMs(attempt: number, { baseMs, capMs }: Backoff): number {
  return Math.min(capMs, baseMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
}
