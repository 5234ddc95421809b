import { signEvolutionJwt } from '../../evolution/webhook-auth.js';

/** How an instance's webhook presents its credential (Evolution v2 custom headers, or jwt_key). */
export type EvolutionAuthMode = 'bearer' | 'apikey' | 'jwt' | 'none';

export function evolutionAuthHeaders(secret: string, mode: EvolutionAuthMode): Record<string, string> {
  if (mode === 'bearer') return { authorization: `Bearer ${secret}` };
  if (mode === 'apikey') return { apikey: secret };
  if (mode === 'jwt') return { authorization: `Bearer ${signEvolutionJwt(secret, Math.floor(Date.now() / 1000))}` };
  return {};
}

/** POSTs one webhook body the way an Evolution instance does. */
export async function postEvolutionWebhook(
  url: string,
  body: unknown,
  secret: string,
  mode: EvolutionAuthMode = 'bearer',
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...evolutionAuthHeaders(secret, mode) },
    body: JSON.stringify(body),
  });
}
