/**
 * Inbound messages as Meta posts them, for trying the flows end to end without Meta: a
 * click-to-WhatsApp ad (a text with its `referral`), a plain text (e.g. the website's "… sobre el
 * curso X en la web"), and a tap on a list row or reply button.
 */
import { randomBytes } from 'node:crypto';
import { messagesEnvelope, type EnvelopeIds } from './status-envelope.js';

export type SimInbound =
  | { kind: 'ad_click'; from: string; adId: string; ctwaClid?: string; text?: string; sourceUrl?: string }
  | { kind: 'text'; from: string; text: string }
  | { kind: 'tap'; from: string; id: string; title?: string; button?: boolean };

export interface SimInboundOptions {
  phoneNumberId: string;
  name?: string;
  /** Unix seconds; default now. */
  timestamp?: number;
}

export function inboundEnvelope(
  ids: EnvelopeIds,
  input: SimInbound,
  o: SimInboundOptions,
): { envelope: Record<string, unknown>; wamid: string } {
  const wamid = `wamid.SIM${randomBytes(12).toString('hex').toUpperCase()}`;
  const base = { from: input.from, id: wamid, timestamp: String(o.timestamp ?? Math.floor(Date.now() / 1000)) };
  const message =
    input.kind === 'tap'
      ? {
          ...base,
          type: 'interactive',
          interactive: input.button
            ? { type: 'button_reply', button_reply: { id: input.id, title: input.title ?? input.id } }
            : { type: 'list_reply', list_reply: { id: input.id, title: input.title ?? input.id } },
        }
      : {
          ...base,
          type: 'text',
          text: { body: input.kind === 'text' ? input.text : (input.text ?? 'Hola, quiero más información') },
          ...(input.kind === 'ad_click'
            ? {
                referral: {
                  source_url: input.sourceUrl ?? 'https://fb.me/sim-ad',
                  source_id: input.adId,
                  source_type: 'ad',
                  headline: 'Anuncio simulado',
                  body: 'Click-to-WhatsApp',
                  media_type: 'image',
                  ctwa_clid: input.ctwaClid ?? `SIMCLID${randomBytes(8).toString('hex')}`,
                },
              }
            : {}),
        };
  const envelope = messagesEnvelope(ids, o.phoneNumberId, {
    contacts: [{ profile: { name: o.name ?? 'Cliente simulado' }, wa_id: input.from }],
    messages: [message],
  });
  return { envelope, wamid };
}
