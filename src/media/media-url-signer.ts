/**
 * Signed links to locally stored media: `/media/<key>?exp=<unix s>&sig=<base64url HMAC-SHA256>`.
 * The CRM gets a URL it can open directly (an <img> cannot send an Authorization header); the
 * signature binds key and expiry, so neither can be changed without MEDIA_URL_SECRET.
 */
import { createHmac } from 'node:crypto';
import { safeEqual } from '../webhook/verify-signature.js';

const MEDIA_ROUTE_PREFIX = '/media/';

function signature(secret: string, key: string, exp: number): string {
  return createHmac('sha256', secret).update(`${key}\n${exp}`).digest('base64url');
}

/** The path and query (no origin) of a link valid until `nowS + ttlS`. */
export function signMediaPath(secret: string, key: string, ttlS: number, nowS = Math.floor(Date.now() / 1000)): string {
  const exp = nowS + ttlS;
  return `${MEDIA_ROUTE_PREFIX}${key}?exp=${exp}&sig=${signature(secret, key, exp)}`;
}

export type LinkCheck = 'ok' | 'invalid' | 'expired';

/**
 * Checks a presented link. The signature is compared in constant time before the expiry is looked
 * at, so a forged link learns nothing from the answer; both failures answer 403 anyway.
 */
export function checkMediaLink(
  secret: string,
  key: string,
  exp: string | undefined,
  sig: string | undefined,
  nowS = Math.floor(Date.now() / 1000),
): LinkCheck {
  if (!exp || !sig || !/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return 'invalid';
  const expS = Number(exp);
  if (!safeEqual(sig, signature(secret, key, expS))) return 'invalid';
  return expS < nowS ? 'expired' : 'ok';
}
