import { createHmac, randomBytes } from 'node:crypto';

/**
 * What keeps phone numbers out of log lines beyond redaction by path (logger.ts):
 * - `hashId`: a keyed, truncated HMAC for identifiers operators correlate but must not read — the
 *   conversation key `<phone_number_id>:<phone>`, queue job ids (they embed the wamid). Keyed,
 *   because a plain hash of a phone number is reversed by trying every number (10^10 is nothing).
 * - serializers for the fields that carry other parties' words — `err` (database and driver
 *   messages quote values: a CRM trigger's RAISE, an invalid-input error), Meta's `errors`, a kept
 *   event's `reason`: long digit runs and wamids are masked wherever they appear.
 */

let hashKey: Buffer = randomBytes(32);

/**
 * Keys hashId with a secret every process of one deployment shares (the app secret), so one
 * conversation hashes alike across PM2 instances and restarts. Without it the key is random per
 * process: lines still correlate within the process.
 */
export function setLogHashKey(secret: string | undefined): void {
  hashKey = secret ? createHmac('sha256', secret).update('psi-router log ids').digest() : randomBytes(32);
}

/** Stable, non-reversible short id for a phone number, conversation key or job id. */
export function hashId(value: string | null | undefined): string | null {
  if (!value) return null;
  return createHmac('sha256', hashKey).update(value).digest('hex').slice(0, 16);
}

const STATUS_KEY = /^status#(\d+)$/;

/** A processing key as a log may show it: a status's journal id as is, a conversation key hashed. */
export function keyForLog(key: string): { eventId: string } | { convHash: string | null } {
  const status = STATUS_KEY.exec(key);
  return status ? { eventId: status[1]! } : { convHash: hashId(key) };
}

// A wamid is base64 of the customer's phone; seven or more digits in a row may be a phone number
// (E.164 numbers are 8–15 digits). Ids the router logs on purpose (uuids, journal ids) are neither.
const WAMID = /wamid\.[A-Za-z0-9+/=_-]+/g;
const DIGIT_RUN = /\+?\d{7,}/g;

export function scrubText(text: string): string {
  return text.replace(WAMID, 'wamid.[masked]').replace(DIGIT_RUN, '[number]');
}

function scrubValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      type: value.name,
      message: scrubText(value.message),
      ...(code !== undefined ? { code } : {}),
      ...(value.stack ? { stack: scrubText(value.stack) } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(v, depth + 1)]));
}

/** pino serializers (by top-level field name) for the fields that quote third parties. */
export const SCRUBBING_SERIALIZERS: Record<string, (value: unknown) => unknown> = {
  err: (v) => scrubValue(v, 0),
  errors: (v) => scrubValue(v, 0),
  reason: (v) => scrubValue(v, 0),
};
