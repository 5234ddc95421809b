/**
 * Evolution v2 webhook bodies (`{event, instance, data, sender, …}`) → the same InboundEvent list a
 * Cloud API batch becomes, so the journal, leases, ordering, idempotency and dead letters apply
 * unchanged. `messages.upsert` messages become message events; acks of our own sends
 * (`messages.update`, fromMe) become status events; everything else (`connection.update`,
 * `send.message`, acks of customers' messages, unknown events) is journalled as `other`.
 *
 * The top-level `sender` is the line's own number (the instance's jid), never the customer: the
 * customer comes from each message's key.
 */
import type {
  InboundEvent,
  InboundMessageEvent,
  LineRef,
  MessageContext,
  OtherEvent,
  StatusEvent,
} from '../webhook/inbound-event.js';
import { MAX_TIMESTAMP_S, MIN_TIMESTAMP_S } from '../webhook/item-limits.js';
import { customerOfKey, phoneOfJid } from './jids.js';
import { evolutionMessageId } from './line-ids.js';
import { evolutionContent } from './message-content.js';
import type { EvolutionMediaSource } from './media-source.js';

export interface EvolutionLineScope {
  code: string;
  instance: string;
  senderId: string;
  receivedAtMs: number;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : null);

/** Evolution's ack words (Baileys' status numbers 0-5) → Meta's status words the CRM's ticks read. */
const ACKS: Record<string, string> = {
  ERROR: 'failed',
  SERVER_ACK: 'sent',
  DELIVERY_ACK: 'delivered',
  READ: 'read',
  PLAYED: 'played',
};

/** A normalised message plus its media bytes' source (kept out of the journal's event). */
export interface NormalisedEvolution {
  events: InboundEvent[];
  media: Map<string, EvolutionMediaSource>;
}

export function normaliseRawEvolution(body: Obj, scope: EvolutionLineScope): NormalisedEvolution {
  const line: LineRef = {
    phoneNumberId: scope.senderId,
    displayPhoneNumber: phoneOfJid(typeof body['sender'] === 'string' ? body['sender'] : null),
    wabaId: scope.instance,
  };
  const event = typeof body['event'] === 'string' ? body['event'].toLowerCase().replace(/_/g, '.') : '';
  const items = Array.isArray(body['data']) ? body['data'] : [body['data']];
  const out: NormalisedEvolution = { events: [], media: new Map() };
  const other = (reason: string, value: unknown): OtherEvent => ({
    kind: 'other',
    line,
    field: `evolution:${event || 'unknown'}`,
    reason,
    value: withoutSecrets(value),
  });
  for (const item of items) {
    if (event === 'messages.upsert') {
      const normalised = normaliseUpsert(obj(item), line, scope);
      if ('event' in normalised) {
        out.events.push(normalised.event);
        if (normalised.media) out.media.set(normalised.event.wamid, normalised.media);
      } else {
        out.events.push(other(normalised.reason, item));
      }
    } else if (event === 'messages.update') {
      out.events.push(statusOf(obj(item), line, scope) ?? other('evolution_update_not_tracked', item));
    } else {
      out.events.push(other(event === 'connection.update' ? 'evolution_connection' : 'evolution_not_processed', item));
    }
  }
  return out;
}

function normaliseUpsert(
  data: Obj | null,
  line: LineRef,
  scope: EvolutionLineScope,
): { event: InboundMessageEvent; media: EvolutionMediaSource | null } | { reason: string } {
  const key = obj(data?.['key']);
  const id = typeof key?.['id'] === 'string' && key['id'].length > 0 && key['id'].length <= 200 ? key['id'] : null;
  if (!data || !key || !id) return { reason: 'malformed_message: no key.id' };
  const customer = customerOfKey(key);
  if (!customer) return { reason: 'malformed_message: no usable remoteJid' };
  if (key['remoteJid'] === 'status@broadcast') return { reason: 'evolution_status_broadcast' };
  const fromMe = key['fromMe'] === true;
  const content = evolutionContent(data['message'], data['contextInfo']);
  const wamid = evolutionMessageId(scope.instance, id);
  const event: InboundMessageEvent = {
    kind: 'message',
    line,
    wamid,
    ...timestampOf(data['messageTimestamp'], scope.receivedAtMs),
    from: customer.phone,
    userId: customer.userId,
    username: null,
    // pushName is whoever wrote: staff on a fromMe message, a member in a group; neither names the contact.
    profileName: fromMe || customer.group ? null : typeof data['pushName'] === 'string' ? data['pushName'] : null,
    type: content.type,
    rawType: typeof data['messageType'] === 'string' ? data['messageType'] : content.type,
    text: content.text,
    media: content.media ? { id: wamid, ...content.media } : null,
    context: quoteOf(scope.instance, content.quotedId),
    referral: null,
    interactive: null,
    reaction: content.reaction
      ? { messageId: evolutionMessageId(scope.instance, content.reaction.rawMessageId), emoji: content.reaction.emoji }
      : null,
    details: {
      ...content.details,
      evolution: {
        instance: scope.instance,
        participant: typeof key['participant'] === 'string' ? key['participant'] : null,
      },
    },
    errors: [],
    ...(fromMe ? { fromMe: true } : {}),
    ...(customer.group ? { group: true } : {}),
  };
  const media =
    content.mediaSource && (content.mediaSource.url || content.mediaSource.base64) ? content.mediaSource : null;
  return { event, media };
}

/** A quote of an earlier message (`contextInfo.stanzaId`), as Cloud API `context` reads. */
export function quoteOf(instance: string, rawId: string | null): MessageContext | null {
  if (!rawId) return null;
  return {
    messageId: evolutionMessageId(instance, rawId),
    from: null,
    forwarded: false,
    frequentlyForwarded: false,
    referredProduct: null,
  };
}

function statusOf(data: Obj | null, line: LineRef, scope: EvolutionLineScope): StatusEvent | null {
  // Only acks of what this line sent move ticks; a customer's message being read by us is not a status.
  const id = typeof data?.['keyId'] === 'string' ? data['keyId'] : null;
  const status = typeof data?.['status'] === 'string' ? data['status'] : null;
  if (!data || !id || !status || data['fromMe'] !== true) return null;
  const mapped = ACKS[status.toUpperCase()];
  if (!mapped) return null;
  const remote = typeof data['remoteJid'] === 'string' ? data['remoteJid'] : null;
  return {
    kind: 'status',
    line,
    wamid: evolutionMessageId(scope.instance, id),
    status: mapped,
    timestamp: scope.receivedAtMs / 1000,
    recipientId: phoneOfJid(remote),
    recipientUserId: null,
    conversation: null,
    pricing: null,
    errors: [],
  };
}

function timestampOf(raw: unknown, receivedAtMs: number): { timestamp: number; metaTimestamp?: number } {
  const receivedS = receivedAtMs / 1000;
  // Baileys may hand a Long ({low, high}) or a string; anything unusable is the receive time.
  const n =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'string'
        ? Number(raw)
        : typeof obj(raw)?.['low'] === 'number'
          ? (obj(raw)!['low'] as number) >>> 0
          : NaN;
  if (!Number.isFinite(n) || n < MIN_TIMESTAMP_S || n > MAX_TIMESTAMP_S) return { timestamp: receivedS };
  return n > receivedS ? { timestamp: receivedS, metaTimestamp: n } : { timestamp: n };
}

/** The journal keeps non-message events for audit, without the instance token or media bytes. */
function withoutSecrets(value: unknown): unknown {
  const o = obj(value);
  if (!o) return value;
  const { apikey: _apikey, base64: _base64, ...rest } = o;
  return rest;
}
