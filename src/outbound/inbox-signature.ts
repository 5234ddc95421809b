import { createHmac, timingSafeEqual } from 'node:crypto';

export const INBOX_SIGNATURE_HEADER = 'x-psi-router-signature';

/** How old a signature a receiver should accept (seconds); the README's n8n check uses it too. */
export const INBOX_SIGNATURE_TOLERANCE_S = 300;

/**
 * `X-Psi-Router-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, the scheme
 * Stripe-style receivers know: the timestamp is inside the signed bytes, so a captured notification
 * cannot be replayed once the receiver's tolerance has passed, nor re-dated without the secret.
 */
export function signInboxBody(secret: string, body: string, nowS: number): string {
  const t = Math.floor(nowS);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** The receiver's side, for tests and for anyone writing a receiver in Node. */
export function verifyInboxSignature(
  header: string,
  body: string,
  secret: string,
  nowS: number,
  toleranceS = INBOX_SIGNATURE_TOLERANCE_S,
): boolean {
  const parts = new Map(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || Math.abs(nowS - t) > toleranceS || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}
