/**
 * The status webhook Meta posts for an outbound message: one envelope, one entry, one `messages`
 * change with one `statuses[]` item. Field order follows Meta's (value before field).
 */
import { KNOWN_META_ERRORS } from './meta-error-bodies.js';
import { conversationId } from './ids.js';
import type { StatusErrorInput, StatusName } from './types.js';

export interface StatusItemInput {
  wamid: string;
  status: StatusName;
  recipientId: string;
  phoneNumberId: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** Default: true for sent/delivered, as Meta bills on those. */
  billing?: boolean;
  /** Pricing category / conversation origin. */
  category?: 'service' | 'utility' | 'marketing' | 'authentication';
  errors?: StatusErrorInput[];
}

export interface EnvelopeIds {
  wabaId: string;
  displayPhoneNumber: string;
}

const DAY_SECONDS = 86_400;

export function statusEnvelope(ids: EnvelopeIds, s: StatusItemInput): Record<string, unknown> {
  return messagesEnvelope(ids, s.phoneNumberId, { statuses: [statusItem(s)] });
}

/** One envelope, one entry, one `messages` change whose value holds `items` (statuses, or contacts and messages). */
export function messagesEnvelope(
  ids: EnvelopeIds,
  phoneNumberId: string,
  items: Record<string, unknown>,
): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: ids.wabaId,
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: ids.displayPhoneNumber, phone_number_id: phoneNumberId },
              ...items,
            },
            field: 'messages',
          },
        ],
      },
    ],
  };
}

function statusItem(s: StatusItemInput): Record<string, unknown> {
  const now = s.timestamp ?? Math.floor(Date.now() / 1000);
  const billing = s.billing ?? (s.status === 'sent' || s.status === 'delivered');
  const category = s.category ?? 'service';
  return {
    id: s.wamid,
    status: s.status,
    timestamp: String(now),
    recipient_id: s.recipientId,
    ...(billing
      ? {
          conversation: {
            id: conversationId(s.phoneNumberId, s.recipientId),
            // Meta sends the expiry only with the first status of a conversation's message.
            ...(s.status === 'sent' ? { expiration_timestamp: String(now + DAY_SECONDS) } : {}),
            origin: { type: category },
          },
          pricing: { billable: true, pricing_model: 'CBP', category },
        }
      : {}),
    ...(s.errors && s.errors.length > 0 ? { errors: s.errors.map(metaStatusError) } : {}),
  };
}

/** `{ code, title, message, error_data: { details } }`, filled from Meta's table when not given. */
function metaStatusError(e: StatusErrorInput): Record<string, unknown> {
  const known = KNOWN_META_ERRORS[e.code];
  const title = e.title ?? known?.title ?? 'Unknown error';
  return {
    code: e.code,
    title,
    message: e.message ?? title,
    error_data: { details: e.details ?? known?.details ?? title },
  };
}
