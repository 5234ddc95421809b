/**
 * One `value.messages[]` item → an InboundMessageEvent, or an `other` event when the item cannot be
 * normalised or stored (not an object, no id, no timestamp or one no WhatsApp time can be, no sender,
 * no line to attribute it to, an id or sender too long for the indexes, a lone UTF-16 surrogate).
 * Never throws: an item-level problem must not cost its siblings in the same batch.
 */
import type { AdReferral, InboundMessageEvent, LineRef, MessageContext, OtherEvent } from './inbound-event.js';
import { describeIssues, messageItemSchema } from './item-schemas.js';
import type { MetaContact, MetaMessageItem } from './item-schemas.js';
import { MAX_BYTES, firstTooLong } from './item-limits.js';
import { normaliseContent } from './message-content.js';
import { toMetaErrors } from './meta-errors.js';
import { isWellFormedDeep, toWellFormedDeep } from './well-formed.js';

/** What a message needs from the change it arrived in. */
export interface ChangeScope {
  line: LineRef | null;
  field: string;
  /** `value.contacts[]`, already parsed; malformed entries dropped. */
  contacts: MetaContact[];
  /** When the router received the batch (ms since the epoch): the latest a message can be dated. */
  receivedAtMs: number;
  /** The body may hold lone surrogates (it has `\uD8xx`–`\uDFxx` escapes): check each item. */
  checkUnicode: boolean;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function normaliseMessage(raw: unknown, scope: ChangeScope): InboundMessageEvent | OtherEvent {
  const other = (reason: string): OtherEvent => ({
    kind: 'other',
    line: scope.line,
    field: scope.field,
    reason,
    value: scope.checkUnicode ? toWellFormedDeep(raw) : raw,
  });
  if (!isPlainObject(raw)) return other('malformed_message: not an object');
  const parsed = messageItemSchema.safeParse(raw);
  if (!parsed.success) return other(`malformed_message: invalid ${describeIssues(parsed.error)}`);
  if (scope.line === null) return other('missing_metadata');
  const m = parsed.data;

  const contact = matchContact(scope.contacts, m);
  // A username-only sender (2026) has no phone number: `from` is absent and only the user id is known.
  const from = m.from ?? contact?.wa_id ?? null;
  const userId = m.from_user_id ?? contact?.user_id ?? null;
  if (from === null && userId === null) return other('malformed_message: no sender (neither from nor user id)');
  const tooLong = firstTooLong([
    ['from', from, MAX_BYTES.from],
    ['from_user_id', userId, MAX_BYTES.userId],
  ]);
  if (tooLong) return other(`malformed_message: invalid ${tooLong}`);

  const rawType = m.type ?? '';
  const content = normaliseContent(rawType, raw);
  const referralMedia = m.referral ? referralMediaOf(m.referral) : null;
  // A message cannot come from the future: a time ahead of the receive time (a wrong clock, a forged
  // item) would move the 24 h window and freeze the conversation's preview on it, so the receive time
  // stands in for ordering, windows and previews, and Meta's value is kept beside it. To the
  // millisecond: the router's own reply to the previous message (stored at its decision time) must
  // still sort before a message received after it.
  const receivedS = scope.receivedAtMs / 1000;
  const ahead = m.timestamp > receivedS;
  const event: InboundMessageEvent = {
    kind: 'message',
    line: scope.line,
    wamid: m.id,
    timestamp: ahead ? receivedS : m.timestamp,
    ...(ahead ? { metaTimestamp: m.timestamp } : {}),
    from,
    userId,
    username: contact?.profile?.username ?? null,
    profileName: contact?.profile?.name ?? null,
    type: content.type,
    rawType,
    text: content.text,
    media: content.media,
    context: m.context ? toContext(m.context) : null,
    referral: m.referral ? toReferral(m.referral) : null,
    interactive: content.interactive,
    reaction: content.reaction,
    // Ad creative URLs have no slot in AdReferral; keep them rather than drop them.
    details: referralMedia ? { ...content.details, referralMedia } : content.details,
    errors: toMetaErrors(m.errors),
  };
  // The event is what the journal stores: the contact card's name counts as much as the text.
  if (scope.checkUnicode && !isWellFormedDeep(event))
    return other('malformed_message: ill-formed unicode (lone surrogate)');
  return event;
}

/**
 * The contact card describing this message's sender: by phone, else by user id, else the only card
 * (Meta sends one card per single-sender change, sometimes without a matching key).
 */
export function matchContact(
  contacts: MetaContact[],
  m: Pick<MetaMessageItem, 'from' | 'from_user_id'>,
): MetaContact | undefined {
  const byPhone = m.from === undefined ? undefined : contacts.find((c) => c.wa_id === m.from);
  if (byPhone) return byPhone;
  const byUserId = m.from_user_id === undefined ? undefined : contacts.find((c) => c.user_id === m.from_user_id);
  if (byUserId) return byUserId;
  return contacts.length === 1 ? contacts[0] : undefined;
}

function toContext(c: NonNullable<MetaMessageItem['context']>): MessageContext {
  const p = c.referred_product;
  return {
    messageId: c.id ?? null,
    from: c.from ?? null,
    forwarded: c.forwarded ?? false,
    frequentlyForwarded: c.frequently_forwarded ?? false,
    referredProduct: p ? { catalogId: p.catalog_id ?? null, productRetailerId: p.product_retailer_id ?? null } : null,
  };
}

function toReferral(r: NonNullable<MetaMessageItem['referral']>): AdReferral {
  return {
    sourceUrl: r.source_url ?? null,
    sourceId: r.source_id ?? null,
    sourceType: r.source_type ?? null,
    headline: r.headline ?? null,
    body: r.body ?? null,
    mediaType: r.media_type ?? null,
    ctwaClid: r.ctwa_clid ?? null,
  };
}

function referralMediaOf(r: NonNullable<MetaMessageItem['referral']>) {
  if (!r.image_url && !r.video_url && !r.thumbnail_url) return null;
  return { imageUrl: r.image_url ?? null, videoUrl: r.video_url ?? null, thumbnailUrl: r.thumbnail_url ?? null };
}
