import { describe, expect, it } from 'vitest';
import { checkMediaLink, signMediaPath } from '../../../src/media/media-url-signer.js';

const SECRET = 'unit-test-media-secret';
const KEY = '2025/03/3f2504e0-4f89-41d3-9a0c-0305e82c3301/factura.pdf';
const NOW = 1_750_000_000;

const parse = (path: string) => {
  const url = new URL(path, 'http://router.test');
  return {
    key: decodeURIComponent(url.pathname.slice('/media/'.length)),
    exp: url.searchParams.get('exp') ?? undefined,
    sig: url.searchParams.get('sig') ?? undefined,
  };
};

describe('signed media links', () => {
  it('when a link is presented as signed, then it is accepted until it expires', () => {
    const link = parse(signMediaPath(SECRET, KEY, 3600, NOW));
    expect(link.key).toBe(KEY);
    expect(link.exp).toBe(String(NOW + 3600));
    expect(checkMediaLink(SECRET, link.key, link.exp, link.sig, NOW + 3600)).toBe('ok');
    expect(checkMediaLink(SECRET, link.key, link.exp, link.sig, NOW + 3601)).toBe('expired');
  });

  it('when the key, expiry or signature is altered, then the link is invalid', () => {
    const { key, exp, sig } = parse(signMediaPath(SECRET, KEY, 3600, NOW));
    expect(checkMediaLink(SECRET, key.replace('factura', 'recibo'), exp, sig, NOW)).toBe('invalid');
    expect(checkMediaLink(SECRET, key, String(Number(exp) + 86_400), sig, NOW)).toBe('invalid');
    expect(checkMediaLink(SECRET, key, exp, `${sig!.slice(0, -1)}${sig!.endsWith('A') ? 'B' : 'A'}`, NOW)).toBe(
      'invalid',
    );
    expect(checkMediaLink('another-secret-entirely', key, exp, sig, NOW)).toBe('invalid');
  });

  it('when expiry or signature is missing or malformed, then the link is invalid', () => {
    const { key, exp, sig } = parse(signMediaPath(SECRET, KEY, 3600, NOW));
    expect(checkMediaLink(SECRET, key, undefined, sig, NOW)).toBe('invalid');
    expect(checkMediaLink(SECRET, key, exp, undefined, NOW)).toBe('invalid');
    expect(checkMediaLink(SECRET, key, '-1', sig, NOW)).toBe('invalid');
    expect(checkMediaLink(SECRET, key, exp, 'short', NOW)).toBe('invalid');
  });

  it('when an expired link carries a forged signature, then it is reported invalid, not expired', () => {
    expect(checkMediaLink(SECRET, KEY, String(NOW - 10), 'A'.repeat(43), NOW)).toBe('invalid');
  });
});
