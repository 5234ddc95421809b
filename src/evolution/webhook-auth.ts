import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.js';
import { safeEqual } from '../webhook/verify-signature.js';

/** A JWT must expire within this long of now: Evolution's jwt_key mode signs for 10 minutes. */
const MAX_JWT_LIFETIME_S = 15 * 60;
/** Clock difference tolerated between the Evolution host and this one. */
const CLOCK_SKEW_S = 60;

export interface WebhookAuthHeaders {
  authorization: string | undefined;
  apikey: string | undefined;
}

/**
 * Checks an Evolution webhook against its line's secret, before anything is stored. Evolution v2
 * sends the custom headers configured on the instance's webhook, so the secret comes as
 * `Authorization: Bearer <secret>` or `apikey: <secret>`; or, in its `jwt_key` mode, as an HS256
 * JWT signed with the secret (`Authorization: Bearer <jwt>`, `exp` 10 minutes ahead). Comparisons
 * run in constant time. The body's own `apikey` field (the instance token Evolution puts in every
 * payload) is never looked at: whoever knows an instance token must not be able to write to the CRM.
 *
 * Throws SIGNATURE_MISSING (401) when no credential came, SIGNATURE_INVALID (403) when it is wrong
 * or the line has no secret configured.
 */
export function verifyEvolutionWebhook(headers: WebhookAuthHeaders, secret: string | null, nowS: number): void {
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization?.trim() ?? '')?.[1]?.trim();
  const apikey = headers.apikey?.trim();
  if (!bearer && !apikey) throw new AppError('SIGNATURE_MISSING', 'Authorization or apikey header required');
  if (!secret) throw new AppError('SIGNATURE_INVALID', 'this line has no webhook secret configured');
  if (apikey && safeEqual(apikey, secret)) return;
  if (bearer && safeEqual(bearer, secret)) return;
  if (bearer && bearer.split('.').length === 3 && validJwt(bearer, secret, nowS)) return;
  throw new AppError('SIGNATURE_INVALID', 'webhook credential does not match the line');
}

/** HS256 only (an `alg` of none or RS256 is refused), signature in constant time, short-lived. */
function validJwt(token: string, secret: string, nowS: number): boolean {
  const [h, p, s] = token.split('.') as [string, string, string];
  const header = decodePart(h);
  if (!header || header['alg'] !== 'HS256') return false;
  const expected = createHmac('sha256', secret).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  const payload = decodePart(p);
  const exp = payload?.['exp'];
  if (typeof exp !== 'number') return false;
  if (exp + CLOCK_SKEW_S < nowS) return false;
  return exp - nowS <= MAX_JWT_LIFETIME_S + CLOCK_SKEW_S;
}

function decodePart(part: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** An HS256 JWT as Evolution's jwt_key mode makes it (the simulator and tests sign with this). */
export function signEvolutionJwt(secret: string, nowS: number, lifetimeS = 600): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ iat: nowS, exp: nowS + lifetimeS, app: 'evolution', action: 'webhook' })}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}
