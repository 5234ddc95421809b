/**
 * One `value.statuses[]` item (sent/delivered/read/played/failed for a message we sent) → a
 * StatusEvent, or an `other` event when it lacks an id, status or timestamp or has no line. Never
 * throws. An unknown status string is kept as-is; the status machine decides what to ignore.
 */
import type { LineRef, OtherEvent, StatusEvent } from './inbound-event.js';
import { describeIssues, statusItemSchema } from './item-schemas.js';
import { toMetaErrors } from './meta-errors.js';

export function normaliseStatus(raw: unknown, line: LineRef | null, field: string): StatusEvent | OtherEvent {
  const other = (reason: string): OtherEvent => ({ kind: 'other', line, field, reason, value: raw });
  const parsed = statusItemSchema.safeParse(raw);
  if (!parsed.success) return other(`malformed_status: invalid ${describeIssues(parsed.error)}`);
  if (line === null) return other('missing_metadata');
  const s = parsed.data;
  return {
    kind: 'status',
    line,
    wamid: s.id,
    status: s.status,
    timestamp: s.timestamp,
    recipientId: s.recipient_id ?? null,
    recipientUserId: s.recipient_user_id ?? null,
    conversation: s.conversation
      ? {
          id: s.conversation.id ?? null,
          originType: s.conversation.origin?.type ?? null,
          expiresAt: s.conversation.expiration_timestamp ?? null,
        }
      : null,
    pricing: s.pricing
      ? {
          category: s.pricing.category ?? null,
          model: s.pricing.pricing_model ?? null,
          billable: s.pricing.billable ?? null,
        }
      : null,
    errors: toMetaErrors(s.errors),
  };
}
