import { createHash } from 'node:crypto';
import type { InboundEvent, InboundMessageEvent } from './inbound-event.js';

/**
 * Idempotency key of an event in the journal. Messages are unique by wamid; a status by wamid and
 * status value (Meta may repeat one); events without an id by a hash of their content, so an exact
 * redelivery still collapses.
 */
export function eventKey(event: InboundEvent): string {
  switch (event.kind) {
    case 'message':
      return `m:${event.wamid}`;
    case 'status':
      return `s:${event.wamid}:${event.status}`;
    default:
      return `${event.kind === 'error' ? 'e' : 'o'}:${createHash('sha256').update(JSON.stringify(event)).digest('hex')}`;
  }
}

/** The customer's stable key: phone digits when known, else the business-scoped user id. */
export function customerKey(event: Pick<InboundMessageEvent, 'from' | 'userId'>): string {
  return event.from ? event.from : `u:${event.userId ?? ''}`;
}

/**
 * Unit of ordering and exclusion: one conversation = one customer on one business line, the same
 * pair the `conversaciones` unique constraint uses. Only messages belong to a conversation.
 */
export function conversationKey(event: InboundEvent): string | null {
  if (event.kind !== 'message') return null;
  return `${event.line.phoneNumberId}:${customerKey(event)}`;
}

/** WhatsApp time of the event in unix seconds (ingest time for events that carry none). */
export function eventTimestamp(event: InboundEvent): number {
  if (event.kind === 'message' || event.kind === 'status') return event.timestamp;
  return Math.floor(Date.now() / 1000);
}
