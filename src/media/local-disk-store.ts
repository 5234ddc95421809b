/**
 * Media on the local disk under DATA_DIR/media — the embedded default next to PGlite. The CRM opens
 * a signed, expiring link served by the router itself (src/ingress/media-routes.ts). Fits one host:
 * with workers on other machines use Supabase Storage.
 */
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors.js';
import { isSafeMediaKey } from './media-keys.js';
import type { MediaStore, SpooledFile, StoredMedia } from './media-store.js';
import { signMediaPath } from './media-url-signer.js';

export interface LocalDiskStoreOptions {
  /** Absolute directory the files live in (DATA_DIR/media). */
  root: string;
  secret: string;
  ttlS: number;
  /** Origin the CRM reaches the router at (MEDIA_PUBLIC_URL); empty = links relative to the router. */
  publicUrl: string | undefined;
}

export const mediaRoot = (dataDir: string): string => path.resolve(dataDir, 'media');

export class LocalDiskStore implements MediaStore {
  readonly kind = 'local' as const;

  constructor(private readonly options: LocalDiskStoreOptions) {}

  async put(key: string, file: SpooledFile, _contentType: string): Promise<StoredMedia> {
    const target = this.pathOf(key);
    try {
      await mkdir(path.dirname(target), { recursive: true });
      // The spool file is complete and checked: renamed into place, a reader never sees half a
      // file. A retried job replaces the same key with the same (checksum-verified) bytes.
      await rename(file.path, target).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EXDEV') throw err;
        // DATA_DIR/media on another filesystem than the spool: copy aside, then rename.
        const temp = `${target}.${randomBytes(6).toString('hex')}.part`;
        try {
          await copyFile(file.path, temp);
          await rename(temp, target);
        } catch (copyErr) {
          await unlink(temp).catch(() => undefined);
          throw copyErr;
        }
      });
      await chmod(target, 0o640);
    } catch (err) {
      throw new AppError('MEDIA_STORE_FAILED', `local disk: ${(err as NodeJS.ErrnoException).code ?? 'write failed'}`, {
        cause: err,
      });
    }
    return { key, url: this.urlFor(key) };
  }

  /** A fresh signed link for a stored key. */
  urlFor(key: string): string {
    const base = (this.options.publicUrl ?? '').replace(/\/$/, '');
    return base + signMediaPath(this.options.secret, key, this.options.ttlS);
  }

  private pathOf(key: string): string {
    if (!isSafeMediaKey(key)) throw new AppError('MEDIA_STORE_FAILED', 'unsafe media key');
    return path.join(this.options.root, ...key.split('/'));
  }
}
