import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeSha256,
  maxBytesFor,
  sha256Matches,
  sha256Of,
  sizeProblem,
  type MediaLimits,
} from '../../../src/media/media-checks.js';
import { mediaBackoffMs, mediaErrorText } from '../../../src/media/media-failure.js';
import { AppError } from '../../../src/errors.js';

const LIMITS: MediaLimits = {
  image: 5 * 1024 * 1024,
  audio: 16 * 1024 * 1024,
  video: 16 * 1024 * 1024,
  document: 100 * 1024 * 1024,
  sticker: 500 * 1024,
};

describe('media size limits', () => {
  it('when a file is over its type limit, then the problem names bytes, limit and type', () => {
    expect(sizeProblem(20_971_520, 'video', LIMITS)).toBe('20971520 bytes > 16777216 for video');
    expect(sizeProblem(600 * 1024, 'sticker', LIMITS)).toBe('614400 bytes > 512000 for sticker');
  });

  it('when a file is exactly at its limit, then it passes', () => {
    expect(sizeProblem(5 * 1024 * 1024, 'image', LIMITS)).toBeNull();
  });

  it('when the type is unknown, then the largest (document) limit applies', () => {
    expect(maxBytesFor('gif', LIMITS)).toBe(LIMITS.document);
    expect(maxBytesFor(null, LIMITS)).toBe(LIMITS.document);
  });
});

describe('media checksums', () => {
  const bytes = Buffer.from('%PDF-1.7 factura 0001');
  const digest = sha256Of(bytes);
  const hex = createHash('sha256').update(bytes).digest('hex');
  const base64 = createHash('sha256').update(bytes).digest('base64');

  it('when Meta gives the SHA-256 as hex (lookup) or base64 (webhook), then both match the bytes', () => {
    expect(sha256Matches(hex, digest)).toBe(true);
    expect(sha256Matches(hex.toUpperCase(), digest)).toBe(true);
    expect(sha256Matches(base64, digest)).toBe(true);
    expect(sha256Matches(base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, ''), digest)).toBe(true);
  });

  it('when the bytes differ from what Meta published, then the check fails in either encoding', () => {
    const other = sha256Of(Buffer.from('%PDF-1.7 factura 0002'));
    expect(sha256Matches(hex, other)).toBe(false);
    expect(sha256Matches(base64, other)).toBe(false);
  });

  it('when there is no usable value to compare, then the check passes (nothing was published)', () => {
    expect(sha256Matches(null, digest)).toBe(true);
    expect(sha256Matches('not-a-hash', digest)).toBe(true);
    expect(decodeSha256('abc')).toBeNull();
  });
});

describe('media failures', () => {
  it('when a download fails, then media_error starts with a stable reason taken from the error code', () => {
    expect(mediaErrorText(new AppError('MEDIA_TOO_LARGE', '20971520 bytes > 16777216 for video'))).toBe(
      'too_large: 20971520 bytes > 16777216 for video',
    );
    expect(mediaErrorText(new AppError('MEDIA_NOT_FOUND', 'Graph 404 gone'))).toBe('media_not_found: Graph 404 gone');
    expect(mediaErrorText(new AppError('MEDIA_CHECKSUM_MISMATCH', 'x'))).toBe('sha256_mismatch: x');
    expect(mediaErrorText(new Error('boom'))).toBe('internal: boom');
  });

  it('when attempts pile up, then the backoff doubles from 5 s and stops at 15 minutes', () => {
    expect([1, 2, 3, 4].map((a) => mediaBackoffMs(a))).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(mediaBackoffMs(30)).toBe(15 * 60_000);
  });
});
