/**
 * The checks a downloaded file must pass before it is stored: the per-type size limit (checked
 * against Meta's `file_size` before downloading and again while streaming) and the SHA-256 Meta
 * published for it — computed while the bytes stream past, since a file is never held whole.
 * Unit-tested.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';

export type MediaLimits = Readonly<Record<'image' | 'audio' | 'video' | 'document' | 'sticker', number>>;

/** Meta's own limits are the defaults (Cloud API "supported media types"): bigger files are not legitimate. */
export function limitsFromConfig(config: Config): MediaLimits {
  return {
    image: config.MEDIA_MAX_BYTES_IMAGE,
    audio: config.MEDIA_MAX_BYTES_AUDIO,
    video: config.MEDIA_MAX_BYTES_VIDEO,
    document: config.MEDIA_MAX_BYTES_DOCUMENT,
    sticker: config.MEDIA_MAX_BYTES_STICKER,
  };
}

/** The limit for a media type; an unknown type gets the largest one (documents). */
export function maxBytesFor(type: string | null, limits: MediaLimits): number {
  return type !== null && type in limits ? limits[type as keyof MediaLimits] : limits.document;
}

/** `too_large: 20971520 bytes > 16777216 for video`, or null when within the limit. */
export function sizeProblem(size: number, type: string | null, limits: MediaLimits): string | null {
  const max = maxBytesFor(type, limits);
  return size > max ? `${size} bytes > ${max} for ${type ?? 'media'}` : null;
}

/**
 * Decodes a SHA-256 as Meta writes it: base64 in webhooks, hex in the media lookup. Null when the
 * text is neither (then there is nothing to compare against).
 */
export function decodeSha256(value: string | null | undefined): Buffer | null {
  if (!value) return null;
  const text = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return bytes.length === 32 ? bytes : null;
  }
  return null;
}

export function sha256Of(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/**
 * Passes a download through unchanged while counting and hashing it; fails the stream with
 * MEDIA_TOO_LARGE as soon as it runs past `maxBytes` (Meta announced no size, or a wrong one), so
 * nothing more is read. `size` and `digest()` are final once the stream has ended.
 */
export class MediaCheckStream extends Transform {
  size = 0;
  private readonly hash: Hash = createHash('sha256');

  constructor(
    private readonly maxBytes: number,
    private readonly type: string | null,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      done(
        new AppError('MEDIA_TOO_LARGE', `more than ${this.maxBytes} bytes for ${this.type ?? 'media'}`, {
          details: { bytes: this.size, max: this.maxBytes },
        }),
      );
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  digest(): Buffer {
    return this.hash.copy().digest();
  }
}

/** True when `expected` (hex or base64) is the digest; a missing or unreadable value passes. */
export function sha256Matches(expected: string | null | undefined, digest: Buffer): boolean {
  const want = decodeSha256(expected);
  return want === null || want.equals(digest);
}
