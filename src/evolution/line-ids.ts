/**
 * Ids that keep Evolution traffic apart from Cloud API traffic in tables both share.
 *
 * An Evolution line's sender id (router_lineas.phone_number_id, the journal's `linea`, the outbox's
 * `linea`, conversation keys) is `evo:<line code>`: a Cloud API phone_number_id is digits only, so
 * the two can never meet. Message ids are `evo:<instance>:<Evolution key.id>`: Cloud API wamids
 * start with `wamid.`, so an Evolution id can never collide with one either.
 */
export const EVOLUTION_PREFIX = 'evo:';

export const evolutionSenderId = (lineCode: string): string => `${EVOLUTION_PREFIX}${lineCode}`;

export const isEvolutionSender = (senderId: string | null | undefined): boolean =>
  typeof senderId === 'string' && senderId.startsWith(EVOLUTION_PREFIX);

export const lineCodeOfSender = (senderId: string): string => senderId.slice(EVOLUTION_PREFIX.length);

export const evolutionMessageId = (instance: string, id: string): string => `${EVOLUTION_PREFIX}${instance}:${id}`;

/** The Evolution key.id inside a namespaced id (what its REST API knows the message by). */
export function rawEvolutionId(namespaced: string): string {
  const at = namespaced.indexOf(':', EVOLUTION_PREFIX.length);
  return at < 0 ? namespaced : namespaced.slice(at + 1);
}
