/**
 * One `value.statuses[]` item (sent/delivered/read/played/failed for a message we sent) → a
 * StatusEvent, or an `other` event when it lacks an id, status or timestamp, has no line, or holds
 * what the journal cannot store (item-limits.ts, well-formed.ts). Never throws. An unknown status
 * string is kept as-is; the status machine decides what to ignore.
 */
import type { LineRef, OtherEvent, StatusEvent } from './inbound-event.js';
import { describeIssues, statusItemSchema } from './item-schemas.js';
import { toMetaErrors } from './meta-errors.js';
import { isWellFormedDeep, toWellFormedDeep } from './well-formed.js';

export interface StatusScope {
  /** When the router received the batch (ms since the epoch). */
  receivedAtMs: number;
  /** The body may hold lone surrogates: check the item. */
  checkUnicode: boolean;
}

export function normaliseStatus(
  raw: unknown,
  line: LineRef | null,
  field: string,
  scope: StatusScope = { receivedAtMs: Date.now(), checkUnicode: true },
): StatusEvent | OtherEvent {
  const other = (reason: string): OtherEvent => ({
    kind: 'other',
    line,
    field,
    reason,
    value: scope.checkUnicode ? toWellFormedDeep(raw) : raw,
  });
  const parsed = statusItemSchema.safeParse(raw);
  if (!parsed.success) return other(`malformed_status: invalid ${describeIssues(parsed.error)}`);
  if (line === null) return other('missing_metadata');
  const s = parsed.data;
  // As for messages (normalise-message.ts): nothing happened after the router received it.
  const receivedS = scope.receivedAtMs / 1000;
  const ahead = s.timestamp > receivedS;
  const event: StatusEvent = {
    kind: 'status',
    line,
    wamid: s.id,
    status: s.status,
    timestamp: ahead ? receivedS : s.timestamp,
    ...(ahead ? { metaTimestamp: s.timestamp } : {}),
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
  if (scope.checkUnicode && !isWellFormedDeep(event))
    return other('malformed_status: ill-formed unicode (lone surrogate)');
  return event;
}
