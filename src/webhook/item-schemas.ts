/**
 * Lenient zod schemas for the items inside `change.value` (metadata, contacts, messages, statuses,
 * errors). Each item is parsed on its own with `safeParse`, so a bad item becomes an `other` event
 * while its siblings still parse. Only the few fields an item cannot live without are required
 * (a message's `id` and `timestamp`, a status's `id`, `status` and `timestamp`); every other field
 * reads as absent when it is missing or has the wrong type (`.catch(undefined)`), and unknown keys
 * pass through untouched.
 */
import { z } from 'zod';
import { MAX_BYTES, fitsBytes, isWhatsAppTime } from './item-limits.js';

/** Optional string; a wrong type or an empty string reads as absent (Meta uses "" for "none"). */
export const optString = z
  .string()
  .optional()
  .catch(undefined)
  .transform((s) => (s === '' ? undefined : s));

export const optBool = z.boolean().optional().catch(undefined);

export const optNumber = z.number().optional().catch(undefined);

/** Any array, elements unchecked (they are parsed one by one later). */
export const optArray = z.array(z.unknown()).optional().catch(undefined);

/**
 * Meta sends unix seconds as a digit string; a number is accepted too. Output: number, within what a
 * WhatsApp time can be (item-limits.ts): 99999999999999 is no date, and made the batch a 500.
 */
export const unixSeconds = z
  .union([z.string().regex(/^\d+$/), z.number().int().nonnegative()])
  .transform(Number)
  .refine(isWhatsAppTime, 'not a WhatsApp time');

const optUnixSeconds = unixSeconds.optional().catch(undefined);

/** Error codes are numbers; tolerate a numeric string. */
const optCode = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^-?\d+$/)
      .transform(Number),
  ])
  .optional()
  .catch(undefined);

/** An optional nested object whose malformation must not fail its parent. */
export const lenient = <S extends z.ZodRawShape>(shape: S) => z.looseObject(shape).optional().catch(undefined);

/** An id that becomes (part of) an index key: present, and small enough for the index. */
const indexedId = (maxBytes: number) => z.string().min(1).refine(fitsBytes(maxBytes), `longer than ${maxBytes} bytes`);

export const metadataSchema = z.looseObject({
  phone_number_id: indexedId(MAX_BYTES.phoneNumberId),
  display_phone_number: optString,
});

export const contactSchema = z.looseObject({
  wa_id: optString,
  user_id: optString,
  profile: lenient({ name: optString, username: optString }),
});
export type MetaContact = z.infer<typeof contactSchema>;

export const metaErrorSchema = z.looseObject({
  code: optCode,
  title: optString,
  message: optString,
  error_data: lenient({ details: optString }),
});

export const contextSchema = z.looseObject({
  from: optString,
  id: optString,
  forwarded: optBool,
  frequently_forwarded: optBool,
  referred_product: lenient({ catalog_id: optString, product_retailer_id: optString }),
});

export const referralSchema = z.looseObject({
  source_url: optString,
  source_id: optString,
  source_type: optString,
  headline: optString,
  body: optString,
  media_type: optString,
  image_url: optString,
  video_url: optString,
  thumbnail_url: optString,
  ctwa_clid: optString,
});

export const messageItemSchema = z.looseObject({
  id: indexedId(MAX_BYTES.wamid),
  timestamp: unixSeconds,
  type: optString,
  from: optString,
  from_user_id: optString,
  context: contextSchema.optional().catch(undefined),
  referral: referralSchema.optional().catch(undefined),
  errors: optArray,
});
export type MetaMessageItem = z.infer<typeof messageItemSchema>;

export const statusItemSchema = z.looseObject({
  id: indexedId(MAX_BYTES.wamid),
  status: indexedId(MAX_BYTES.status),
  timestamp: unixSeconds,
  recipient_id: optString,
  recipient_user_id: optString,
  conversation: lenient({
    id: optString,
    expiration_timestamp: optUnixSeconds,
    origin: lenient({ type: optString }),
  }),
  pricing: lenient({ billable: optBool, pricing_model: optString, category: optString }),
  errors: optArray,
});

/** `a.b, c` from zod issues: names what was wrong with an item for the `other` event's reason. */
export function describeIssues(error: z.ZodError): string {
  const paths = error.issues.map((issue) => (issue.path.length === 0 ? 'item' : issue.path.map(String).join('.')));
  return [...new Set(paths)].join(', ');
}
