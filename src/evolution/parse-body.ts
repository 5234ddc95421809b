import { badPayload } from '../errors.js';
import type { InboundEvent } from '../webhook/inbound-event.js';
import { evolutionSenderId } from './line-ids.js';
import type { EvolutionMediaSource } from './media-source.js';
import { isFlatBody, normaliseFlatEvolution } from './normalise-flat.js';
import { normaliseRawEvolution } from './normalise-raw.js';

export interface ParsedEvolution {
  events: InboundEvent[];
  media: Map<string, EvolutionMediaSource>;
  /** `connection.update`'s state (open, connecting, close), when this body is one. */
  connection: string | null;
}

/** Either shape the business posts today: Evolution's own (`event` + `data`) or n8n's flat body. */
export function parseEvolutionBody(
  json: Record<string, unknown>,
  raw: Buffer,
  line: { code: string; instance: string; receivedAtMs: number },
): ParsedEvolution {
  const scope = { ...line, senderId: evolutionSenderId(line.code) };
  if (isFlatBody(json)) return { ...normaliseFlatEvolution(json, raw, scope), connection: null };
  if (typeof json['event'] !== 'string' || !('data' in json))
    throw badPayload('PAYLOAD_NOT_ENVELOPE', 'neither an Evolution webhook (event, data) nor a flat body (telefono)');
  const parsed = normaliseRawEvolution(json, scope);
  const event = json['event'].toLowerCase().replace(/_/g, '.');
  const data = json['data'];
  const state =
    event === 'connection.update' && typeof data === 'object' && data !== null && !Array.isArray(data)
      ? (data as Record<string, unknown>)['state']
      : null;
  return { ...parsed, connection: typeof state === 'string' ? state : null };
}
