/**
 * The `message` object of an Evolution (Baileys) webhook → the normalised content fields, the same
 * ones a Cloud API message gets (webhook/message-content.ts). Pure; never throws: what it does not
 * know becomes `unsupported`, and a malformed part degrades to nulls.
 */
import type { MediaRef, MessageType, Reaction } from '../webhook/inbound-event.js';

export interface EvolutionContent {
  type: MessageType;
  text: string | null;
  media: Omit<MediaRef, 'id'> | null;
  /** Where the media bytes are: a URL Evolution gave, or base64 in the webhook (`webhook_base64`). */
  mediaSource: { url: string | null; base64: string | null } | null;
  /** Raw Evolution id of the quoted message (`contextInfo.stanzaId`). */
  quotedId: string | null;
  /** Raw Evolution id the reaction applies to; emoji null = removed. */
  reaction: { rawMessageId: string; emoji: Reaction['emoji'] } | null;
  details: Record<string, unknown>;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Baileys' media message kinds and the normalised type each becomes. */
const MEDIA_KINDS: [key: string, type: 'image' | 'video' | 'audio' | 'document' | 'sticker'][] = [
  ['imageMessage', 'image'],
  ['videoMessage', 'video'],
  ['audioMessage', 'audio'],
  ['documentMessage', 'document'],
  ['stickerMessage', 'sticker'],
];

export function evolutionContent(message: unknown, dataContextInfo: unknown): EvolutionContent {
  const m = obj(message) ?? {};
  // A document with a caption arrives wrapped (documentWithCaptionMessage.message.documentMessage).
  const inner = obj(obj(m['documentWithCaptionMessage'])?.['message']) ?? obj(obj(m['ephemeralMessage'])?.['message']);
  const msg = inner ? { ...m, ...inner } : m;
  const base = {
    media: null,
    mediaSource: null,
    reaction: null,
    details: {},
    quotedId: quoted(msg, dataContextInfo),
  } satisfies Partial<EvolutionContent>;

  if (typeof msg['conversation'] === 'string') return { ...base, type: 'text', text: msg['conversation'] };
  const ext = obj(msg['extendedTextMessage']);
  if (ext) return { ...base, type: 'text', text: str(ext['text']) };

  for (const [key, type] of MEDIA_KINDS) {
    const media = obj(msg[key]);
    if (!media) continue;
    const caption = str(media['caption']);
    const filename = str(media['fileName']) ?? str(media['title']);
    return {
      ...base,
      type,
      text: caption ?? (type === 'document' ? filename : null),
      media: {
        mimeType: str(media['mimetype'])?.split(';')[0]?.trim() ?? null,
        sha256: null,
        filename,
        caption,
        voice: media['ptt'] === true,
        animated: media['isAnimated'] === true,
      },
      // media.url is WhatsApp's encrypted CDN copy (useless without the media key): only the
      // decrypted file Evolution hands over counts, inline (base64) or stored by it (mediaUrl).
      mediaSource: { url: str(msg['mediaUrl']), base64: str(msg['base64']) },
    };
  }

  const reaction = obj(msg['reactionMessage']);
  if (reaction) {
    const id = str(obj(reaction['key'])?.['id']);
    return {
      ...base,
      type: 'reaction',
      text: str(reaction['text']),
      reaction: id ? { rawMessageId: id, emoji: str(reaction['text']) } : null,
    };
  }

  const location = obj(msg['locationMessage']);
  if (location) {
    const latitude = num(location['degreesLatitude']);
    const longitude = num(location['degreesLongitude']);
    return {
      ...base,
      type: 'location',
      text: str(location['name']) ?? str(location['address']),
      details: { location: { latitude, longitude, name: str(location['name']), address: str(location['address']) } },
    };
  }
  if (obj(msg['contactMessage']) || obj(msg['contactsArrayMessage'])) {
    return { ...base, type: 'contacts', text: str(obj(msg['contactMessage'])?.['displayName']) };
  }
  const keys = Object.keys(msg).filter((k) => k !== 'messageContextInfo' && k !== 'base64' && k !== 'mediaUrl');
  return { ...base, type: 'unsupported', text: null, details: { evolutionType: keys[0] ?? null } };
}

/** `contextInfo.stanzaId`: inside the message part, or at `data.contextInfo` on newer releases. */
function quoted(msg: Obj, dataContextInfo: unknown): string | null {
  for (const part of Object.values(msg)) {
    const id = str(obj(obj(part)?.['contextInfo'])?.['stanzaId']);
    if (id) return id;
  }
  return str(obj(dataContextInfo)?.['stanzaId']);
}
