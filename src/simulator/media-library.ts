/**
 * The media a simulated WhatsApp account holds: what customers "sent" (added by tests), looked up by
 * id like Graph's media endpoint, downloadable through short-lived links like Meta's CDN. Links
 * expire after `urlTtlMs` (Meta: five minutes) or at once through `expireUrls()`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AddMediaInput, AddedMedia, MediaCounters } from './types.js';

export interface MediaItem {
  id: string;
  bytes: Buffer;
  mimeType: string;
  filename: string | null;
  sha256Hex: string;
}

interface Link {
  mediaId: string;
  expiresAt: number;
}

let counter = 0;

/** Media ids look like Meta's: 15–16 digits. */
function nextMediaId(): string {
  counter += 1;
  return `${9000 + (counter % 1000)}${(randomBytes(6).readUIntBE(0, 6) % 1_000_000_000_000).toString().padStart(12, '0')}`;
}

export class MediaLibrary {
  private readonly items = new Map<string, MediaItem>();
  private readonly links = new Map<string, Link>();
  readonly counters: MediaCounters = { lookups: 0, downloads: 0, served: 0 };
  private bornExpired = 0;

  constructor(
    readonly urlTtlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.items.size;
  }

  add(input: AddMediaInput): AddedMedia {
    const bytes = Buffer.isBuffer(input.bytes) ? input.bytes : Buffer.from(input.bytes);
    const id = input.id ?? nextMediaId();
    const digest = createHash('sha256').update(bytes).digest();
    this.items.set(id, {
      id,
      bytes,
      mimeType: input.mimeType,
      filename: input.filename ?? null,
      sha256Hex: digest.toString('hex'),
    });
    return { id, sha256: digest.toString('base64'), sha256Hex: digest.toString('hex'), size: bytes.length };
  }

  /** The id is gone, as after Meta's retention period or a DELETE: lookups and live links answer 404. */
  delete(id: string): boolean {
    return this.items.delete(id);
  }

  /** Every link handed out so far stops working (as if five minutes had passed). */
  expireUrls(): number {
    const n = this.links.size;
    this.links.clear();
    return n;
  }

  /**
   * The next `count` links handed out are already expired when used — what a router sees when it
   * downloads a link more than five minutes after looking it up.
   */
  expireNextUrls(count: number): void {
    this.bornExpired += count;
  }

  get(id: string): MediaItem | undefined {
    return this.items.get(id);
  }

  /** A fresh download link token for a lookup, valid for `urlTtlMs`. */
  issueLink(mediaId: string): { token: string; expiresAtS: number } {
    const token = randomBytes(24).toString('base64url');
    const expired = this.bornExpired > 0;
    if (expired) this.bornExpired -= 1;
    const expiresAt = expired ? this.now() : this.now() + this.urlTtlMs;
    this.links.set(token, { mediaId, expiresAt });
    return { token, expiresAtS: Math.floor(expiresAt / 1000) };
  }

  /** The item behind a live link for `mediaId`, or null (unknown, expired, or the media is gone). */
  resolveLink(token: string, mediaId: string): MediaItem | null {
    const link = this.links.get(token);
    if (!link || link.mediaId !== mediaId) return null;
    if (link.expiresAt <= this.now()) {
      this.links.delete(token);
      return null;
    }
    return this.items.get(mediaId) ?? null;
  }

  reset(): void {
    this.items.clear();
    this.links.clear();
    this.bornExpired = 0;
    Object.assign(this.counters, { lookups: 0, downloads: 0, served: 0 });
  }
}
