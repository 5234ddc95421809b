/**
 * The outer shape of a WhatsApp Cloud API webhook POST. Only the envelope is checked strictly: a
 * body that is not `{ object: 'whatsapp_business_account', entry: [...] }` is not from Meta (or is
 * garbage) and is rejected with 400. Everything inside `change.value` is left as an open object and
 * validated item by item later (see item-schemas.ts), so one odd message, an unknown type or a
 * field Meta adds tomorrow can never make us reject, and lose, the rest of the batch.
 */
import { z } from 'zod';
import { badPayload } from '../errors.js';

const changeSchema = z.object({
  field: z.string(),
  // Any JSON object; its contents are Meta's to evolve.
  value: z.looseObject({}),
});

const entrySchema = z.object({
  /** WhatsApp Business Account id. */
  id: z.string(),
  changes: z.array(changeSchema),
});

export const envelopeSchema = z.object({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(entrySchema).min(1),
});

export type Envelope = z.infer<typeof envelopeSchema>;
export type EnvelopeEntry = Envelope['entry'][number];
export type EnvelopeChange = EnvelopeEntry['changes'][number];

/** At most this many issue paths go into the error details: enough to debug, small enough to log. */
const MAX_ISSUES = 10;

/**
 * Validates the envelope. Throws `PAYLOAD_NOT_ENVELOPE` with `details.issues` (zod paths such as
 * `entry.0.changes`, `(root)` for the top level) when the body is not an envelope.
 */
export function parseEnvelope(json: unknown): Envelope {
  const result = envelopeSchema.safeParse(json);
  if (result.success) return result.data;
  const issues = result.error.issues
    .slice(0, MAX_ISSUES)
    .map((issue) => (issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.')));
  throw badPayload('PAYLOAD_NOT_ENVELOPE', 'body is not a WhatsApp Business Account webhook envelope', {
    issues,
  });
}
