/**
 * Lenient schemas for the type-specific sub-object of a message (`message[message.type]`). Every
 * field is optional and reads as absent when malformed, so content can only degrade (e.g. text
 * null), never turn a message into an error.
 */
import { z } from 'zod';
import { lenient, optArray, optBool, optString } from './item-schemas.js';

/** Coordinates and quantities are numbers; tolerate numeric strings. */
const optNumeric = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^-?\d+(\.\d+)?$/)
      .transform(Number),
  ])
  .optional()
  .catch(undefined);

export const textSchema = z.looseObject({ body: optString });

export const mediaSchema = z.looseObject({
  id: optString,
  mime_type: optString,
  sha256: optString,
  filename: optString,
  caption: optString,
  /** Audio: recorded as a voice note. */
  voice: optBool,
  /** Sticker: animated. */
  animated: optBool,
  /** Newer payloads include a direct download URL. */
  url: optString,
});

export const locationSchema = z.looseObject({
  latitude: optNumeric,
  longitude: optNumeric,
  name: optString,
  address: optString,
  url: optString,
});

/** One shared contact card; only the name is read (for `text`), the card is kept as given. */
export const contactCardSchema = z.looseObject({
  name: lenient({ formatted_name: optString, first_name: optString, last_name: optString }),
});

export const interactiveSchema = z.looseObject({
  type: optString,
  button_reply: lenient({ id: optString, title: optString }),
  list_reply: lenient({ id: optString, title: optString, description: optString }),
  nfm_reply: lenient({ name: optString, body: optString, response_json: optString }),
});

export const buttonSchema = z.looseObject({ payload: optString, text: optString });

export const reactionSchema = z.looseObject({ message_id: optString, emoji: optString });

export const orderSchema = z.looseObject({ catalog_id: optString, text: optString, product_items: optArray });

export const orderItemSchema = z.looseObject({
  product_retailer_id: optString,
  quantity: optNumeric,
  item_price: optNumeric,
  currency: optString,
});

export const systemSchema = z.looseObject({
  body: optString,
  type: optString,
  new_wa_id: optString,
  wa_id: optString,
  customer: optString,
});

export const revokeSchema = z.looseObject({ original_message_id: optString });

export const editSchema = z.looseObject({
  original_message_id: optString,
  /** The message as it reads after the edit, shaped like any inbound message. */
  message: lenient({ type: optString }),
});

/** Parses with a lenient schema; a value that is not even an object reads as `undefined`. */
export function read<T>(schema: z.ZodType<T>, value: unknown): T | undefined {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
