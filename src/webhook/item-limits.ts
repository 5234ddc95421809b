/**
 * What a webhook item's values must satisfy for the journal and the CRM's tables to hold them. One
 * unstorable value in a batch used to fail its whole INSERT (a 500, and Meta redelivered the batch
 * for days without the good items ever being stored), so an item that breaks one of these rules
 * becomes an `other` event kept for audit instead, and its siblings go on.
 */

/** 2009-01-01: WhatsApp did not exist before; a smaller value is not a WhatsApp time. */
export const MIN_TIMESTAMP_S = 1_230_768_000;
/**
 * 9999-12-31T23:59:59Z: the last second an ISO date (and so JavaScript's toISOString) writes with
 * four digits. A later one is no time at all (99999999999999 made toISOString throw). A time between
 * now and this is possible but wrong; the receive time replaces it (normalise-message.ts).
 */
export const MAX_TIMESTAMP_S = 253_402_300_799;

/**
 * Largest UTF-8 size of the values that end up in a B-tree index: journal key (`m:<wamid>`),
 * conversation key (`<phone_number_id>:<from or user id>`), lease key, `contactos.telefono` and
 * `wa_user_id`, `mensajes.whatsapp_message_id`. PostgreSQL refuses an index row over 2,704 bytes;
 * these bounds keep every key far below it and far above anything Meta sends (wamids are ~60
 * characters, phones at most 15 digits, user ids ~20).
 */
export const MAX_BYTES = {
  wamid: 512,
  from: 32,
  userId: 256,
  phoneNumberId: 64,
  status: 64,
} as const;

export const fitsBytes =
  (max: number) =>
  (s: string): boolean =>
    Buffer.byteLength(s, 'utf8') <= max;

export const isWhatsAppTime = (seconds: number): boolean =>
  Number.isFinite(seconds) && seconds >= MIN_TIMESTAMP_S && seconds <= MAX_TIMESTAMP_S;

/** The name of the first value over its byte bound, or null (names are Meta's, for the `other` reason). */
export function firstTooLong(
  values: readonly (readonly [name: string, value: string | null | undefined, maxBytes: number])[],
): string | null {
  for (const [name, value, max] of values) {
    if (typeof value === 'string' && !fitsBytes(max)(value)) return name;
  }
  return null;
}
