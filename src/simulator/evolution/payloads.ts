/**
 * Evolution webhook bodies as the business's lines post them today: Evolution v2's own shape
 * (`{event, instance, data, destination, date_time, sender, server_url, apikey}`) and the flat body
 * n8n posts after flattening it. Used by the Evolution simulator, tests and the benchmark.
 */
import { randomBytes } from 'node:crypto';

export interface RawMessageOptions {
  instance: string;
  /** Customer phone digits (or a full jid: `…@lid`, `…@g.us`). */
  from: string;
  /** The line's own number (top-level `sender`: the instance, never the customer). */
  lineNumber?: string;
  id?: string;
  text?: string;
  fromMe?: boolean;
  pushName?: string;
  timestamp?: number;
  /** `remoteJidAlt` for a `@lid` chat (the phone). */
  remoteJidAlt?: string;
  participant?: string;
  quotedId?: string;
  /** Replaces the text message part (imageMessage, reactionMessage…). */
  message?: Record<string, unknown>;
  /** The instance token Evolution puts into every payload (never the webhook's credential). */
  apikey?: string;
  /** data as an array of one item (some releases batch). */
  asArray?: boolean;
}

export const evolutionMessageKey = (): string => `3EB0${randomBytes(10).toString('hex').toUpperCase()}`;

const jid = (v: string): string => (v.includes('@') ? v : `${v}@s.whatsapp.net`);

export function rawUpsert(o: RawMessageOptions): Record<string, unknown> {
  const message =
    o.message ??
    (o.quotedId
      ? { extendedTextMessage: { text: o.text ?? '', contextInfo: { stanzaId: o.quotedId } } }
      : { conversation: o.text ?? '' });
  const data = {
    key: {
      remoteJid: jid(o.from),
      fromMe: o.fromMe ?? false,
      id: o.id ?? evolutionMessageKey(),
      ...(o.remoteJidAlt ? { remoteJidAlt: jid(o.remoteJidAlt) } : {}),
      ...(o.participant ? { participant: jid(o.participant) } : {}),
    },
    pushName: o.pushName ?? 'Cliente',
    message,
    messageType: Object.keys(message)[0] ?? 'conversation',
    messageTimestamp: o.timestamp ?? Math.floor(Date.now() / 1000),
    instanceId: `inst-${o.instance}`,
    source: 'android',
  };
  return envelope('messages.upsert', o.instance, o.asArray ? [data] : data, o.lineNumber, o.apikey);
}

export function rawAck(instance: string, keyId: string, to: string, status: string): Record<string, unknown> {
  return envelope('messages.update', instance, {
    keyId,
    remoteJid: jid(to),
    fromMe: true,
    status,
    instanceId: `inst-${instance}`,
  });
}

export function rawConnection(instance: string, state: 'open' | 'connecting' | 'close'): Record<string, unknown> {
  return envelope('connection.update', instance, { instance, state, statusReason: state === 'open' ? 200 : 401 });
}

function envelope(
  event: string,
  instance: string,
  data: unknown,
  lineNumber = '5491100000000',
  apikey = 'instance-token-in-body',
): Record<string, unknown> {
  return {
    event,
    instance,
    data,
    destination: 'https://router.example.com/webhook/evolution',
    date_time: new Date().toISOString(),
    sender: `${lineNumber}@s.whatsapp.net`,
    server_url: 'https://evolution.example.com',
    apikey,
  };
}

export interface FlatOptions {
  telefono: string;
  mensaje?: string;
  nombre?: string;
  messageId?: string;
  fromMe?: boolean;
  mediaType?: string;
  mediaUrl?: string;
  contextMessageId?: string;
  reactionTo?: string;
  emoji?: string;
  timestamp?: number;
}

/** n8n's flat body. */
export function flatBody(o: FlatOptions): Record<string, unknown> {
  return {
    telefono: o.telefono,
    nombre: o.nombre ?? 'Cliente',
    messageId: o.messageId ?? evolutionMessageKey(),
    ...(o.mensaje !== undefined ? { mensaje: o.mensaje } : {}),
    ...(o.fromMe !== undefined ? { fromMe: o.fromMe } : {}),
    ...(o.mediaType ? { mediaType: o.mediaType } : {}),
    ...(o.mediaUrl ? { mediaUrl: o.mediaUrl } : {}),
    ...(o.contextMessageId ? { contextMessageId: o.contextMessageId } : {}),
    ...(o.reactionTo ? { tipo: 'reaction', reactionToMessageId: o.reactionTo, emoji: o.emoji ?? '' } : {}),
    ...(o.timestamp ? { timestamp: o.timestamp } : {}),
  };
}
