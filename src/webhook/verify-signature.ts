import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.js';

const PREFIX = 'sha256=';
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/**
 * Checks `X-Hub-Signature-256` against HMAC-SHA256(secret, rawBody) for each configured app secret
 * (several Meta apps may post to one router). Runs on the exact bytes received, before any parsing:
 * re-serialised JSON would not match Meta's escaping of non-ASCII text.
 * Throws SIGNATURE_MISSING / SIGNATURE_MALFORMED (401) or SIGNATURE_INVALID (403).
 */
export function verifySignature(rawBody: Buffer, header: string | undefined, secrets: readonly string[]): void {
  if (header === undefined || header.trim() === '') {
    throw new AppError('SIGNATURE_MISSING', 'X-Hub-Signature-256 header is missing');
  }
  const value = header.trim();
  const hex = value.startsWith(PREFIX) ? value.slice(PREFIX.length) : '';
  if (!HEX_SHA256.test(hex)) {
    throw new AppError('SIGNATURE_MALFORMED', 'X-Hub-Signature-256 must be sha256=<64 hex digits>');
  }
  const received = Buffer.from(hex, 'hex');
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    // Lengths are equal by construction (both 32 bytes), which timingSafeEqual requires.
    if (timingSafeEqual(expected, received)) return;
  }
  throw new AppError('SIGNATURE_INVALID', 'X-Hub-Signature-256 does not match any configured app secret');
}

/** The header value Meta would send for `rawBody` signed with `secret` (tests, simulator, curl docs). */
export function signBody(rawBody: Buffer | string, secret: string): string {
  return PREFIX + createHmac('sha256', secret).update(rawBody).digest('hex');
}

/** Constant-time comparison of two strings of possibly different length (verify token, admin token). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHmac('sha256', 'psi-router-compare').update(a).digest();
  const hb = createHmac('sha256', 'psi-router-compare').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
