/**
 * The flat body n8n posts for an Evolution line after flattening Evolution's webhook:
 * `telefono`, `mensaje`, `nombre`, `messageId`, `mediaType`/`media_type`, `mediaUrl`/`media_url`,
 * `contextMessageId`, `fromMe`, and reactions as `tipo: "reaction"` + `reactionToMessageId` +
 * `emoji`. Becomes the same message event as the raw shape, with the same namespaced id, so the
 * raw and flat copies of one message collapse into one.
 */
import { createHash } from 'node:crypto';
import type { InboundMessageEvent, MessageType, OtherEvent } from '../webhook/inbound-event.js';
import { MAX_TIMESTAMP_S, MIN_TIMESTAMP_S } from '../webhook/item-limits.js';
import { customerOfKey } from './jids.js';
import { evolutionMessageId } from './line-ids.js';
import type { EvolutionMediaSource } from './media-source.js';
import { quoteOf, type EvolutionLineScope, type NormalisedEvolution } from './normalise-raw.js';

type Obj = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim().length > 0 ? v.trim() : null);

const MEDIA: Record<string, 'image' | 'video' | 'audio' | 'document' | 'sticker'> = {
  image: 'image',
  imagen: 'image',
  video: 'video',
  audio: 'audio',
  ptt: 'audio',
  document: 'document',
  documento: 'document',
  sticker: 'sticker',
};

/** A flat body is recognised by its `telefono` (the raw shape has `event` + `data`). */
export const isFlatBody = (body: Obj): boolean => typeof body['telefono'] === 'string' && !('data' in body);

export function normaliseFlatEvolution(body: Obj, raw: Buffer, scope: EvolutionLineScope): NormalisedEvolution {
  const line = { phoneNumberId: scope.senderId, displayPhoneNumber: null, wabaId: scope.instance };
  const telefono = str(body['telefono']) ?? '';
  // "+54 9 11…", "549…", or a jid: a phone, or a lid kept as the second key.
  const jid = telefono.includes('@') ? telefono : `${telefono.replace(/\D/g, '')}@s.whatsapp.net`;
  const customer = customerOfKey({ remoteJid: jid });
  if (!customer) {
    const other: OtherEvent = {
      kind: 'other',
      line,
      field: 'evolution:flat',
      reason: 'malformed_message: no usable telefono',
      value: null,
    };
    return { events: [other], media: new Map() };
  }
  // n8n may drop the id: the exact bytes then stand in for it, so a redelivery still collapses.
  const rawId = str(body['messageId']) ?? `flat-${createHash('sha256').update(raw).digest('hex').slice(0, 40)}`;
  const wamid = evolutionMessageId(scope.instance, rawId);
  const fromMe = body['fromMe'] === true || body['fromMe'] === 'true';
  const isReaction = str(body['tipo'])?.toLowerCase() === 'reaction';
  const mediaKind = MEDIA[(str(body['mediaType']) ?? str(body['media_type']) ?? '').toLowerCase()] ?? null;
  const mediaUrl = str(body['mediaUrl']) ?? str(body['media_url']);
  const text = str(body['mensaje']);
  const type: MessageType = isReaction ? 'reaction' : (mediaKind ?? 'text');
  const reactTo = str(body['reactionToMessageId']);
  const context = str(body['contextMessageId']);
  const event: InboundMessageEvent = {
    kind: 'message',
    line,
    wamid,
    timestamp: timestampOf(body['timestamp'], scope.receivedAtMs),
    from: customer.phone,
    userId: customer.userId,
    username: null,
    profileName: fromMe ? null : str(body['nombre']),
    type,
    rawType: isReaction ? 'reaction' : (mediaKind ?? 'text'),
    text: isReaction ? str(body['emoji']) : text,
    media: mediaKind
      ? {
          id: wamid,
          mimeType: str(body['mimetype']) ?? str(body['mimeType']),
          sha256: null,
          filename: str(body['fileName']) ?? str(body['filename']),
          caption: text,
          voice: false,
          animated: false,
        }
      : null,
    context: quoteOf(scope.instance, context),
    referral: null,
    interactive: null,
    reaction:
      isReaction && reactTo
        ? { messageId: evolutionMessageId(scope.instance, reactTo), emoji: str(body['emoji']) }
        : null,
    details: { evolution: { instance: scope.instance, flat: true } },
    errors: [],
    ...(fromMe ? { fromMe: true } : {}),
    ...(customer.group ? { group: true } : {}),
  };
  const media = new Map<string, EvolutionMediaSource>();
  const base64 = str(body['base64']);
  if (mediaKind && (mediaUrl || base64)) media.set(wamid, { url: mediaUrl, base64 });
  return { events: [event], media };
}

function timestampOf(raw: unknown, receivedAtMs: number): number {
  const receivedS = receivedAtMs / 1000;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
  // Milliseconds (n8n's Date.now()) or seconds; never ahead of the receive time.
  const s = n > 100_000_000_000 ? n / 1000 : n;
  if (!Number.isFinite(s) || s < MIN_TIMESTAMP_S || s > MAX_TIMESTAMP_S) return receivedS;
  return Math.min(s, receivedS);
}
