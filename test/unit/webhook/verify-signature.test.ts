import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/errors.js';
import { safeEqual, signBody, verifySignature } from '../../../src/webhook/verify-signature.js';

const codeOf = (fn: () => void) => {
  try {
    fn();
  } catch (err) {
    return isAppError(err) ? err.code : 'not-app-error';
  }
  return 'passed';
};

describe('verifySignature', () => {
  const body = Buffer.from('{"object":"whatsapp_business_account","texto":"ñandú 🎓"}', 'utf8');

  it('when the header is the HMAC of the raw bytes, then it passes', () => {
    expect(codeOf(() => verifySignature(body, signBody(body, 's3cret'), ['s3cret']))).toBe('passed');
  });

  it('when any of several secrets matches, then it passes', () => {
    expect(codeOf(() => verifySignature(body, signBody(body, 'two'), ['one', 'two', 'three']))).toBe('passed');
  });

  it.each([
    [undefined, 'SIGNATURE_MISSING'],
    ['', 'SIGNATURE_MISSING'],
    ['sha256=', 'SIGNATURE_MALFORMED'],
    ['sha1=0123456789abcdef0123456789abcdef01234567', 'SIGNATURE_MALFORMED'],
    ['sha256=zz' + '0'.repeat(62), 'SIGNATURE_MALFORMED'],
    ['sha256=' + '0'.repeat(63), 'SIGNATURE_MALFORMED'],
    ['sha256=' + '0'.repeat(64), 'SIGNATURE_INVALID'],
  ])('when the header is %j, then %s', (header, code) => {
    expect(codeOf(() => verifySignature(body, header, ['s3cret']))).toBe(code);
  });

  it('when the body was re-serialised (escaped unicode), then the signature no longer matches', () => {
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8'))).replace('ñ', '\\u00f1'));
    expect(codeOf(() => verifySignature(reserialised, signBody(body, 's3cret'), ['s3cret']))).toBe('SIGNATURE_INVALID');
  });

  it('when the hex is upper case, then it still passes (Meta sends lower case, proxies may not)', () => {
    const header = 'sha256=' + signBody(body, 's3cret').slice(7).toUpperCase();
    expect(codeOf(() => verifySignature(body, header, ['s3cret']))).toBe('passed');
  });
});

describe('safeEqual', () => {
  it('when strings differ in length or content, then false; when equal, then true', () => {
    expect(safeEqual('token', 'token')).toBe(true);
    expect(safeEqual('token', 'tokeN')).toBe(false);
    expect(safeEqual('token', 'token-longer')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });
});
