/**
 * Where a download lands while it is checked: a file under DATA_DIR/media-spool, never memory (four
 * 95 MB documents held whole took the router to 894 MB). Only a complete, verified file is handed to
 * the store, which moves it into place (local disk) or uploads it from disk (Supabase Storage).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

export const spoolDirOf = (dataDir: string): string => path.resolve(dataDir, 'media-spool');

export class MediaSpool {
  constructor(readonly dir: string) {}

  /** A fresh path for one download: unique across jobs, attempts and processes sharing DATA_DIR. */
  async fileFor(jobId: string): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    return path.join(this.dir, `${jobId.replace(/[^\w-]/g, '_')}.${randomBytes(6).toString('hex')}.part`);
  }

  async discard(file: string): Promise<void> {
    await unlink(file).catch(() => undefined);
  }

  /**
   * Removes what crashed processes left: files untouched for longer than `olderThanMs` (a claim's
   * lease), whose downloads can no longer be recorded by anyone.
   */
  async sweep(olderThanMs: number): Promise<number> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      const file = path.join(this.dir, name);
      const info = await stat(file).catch(() => null);
      if (info?.isFile() && Date.now() - info.mtimeMs > olderThanMs) {
        await unlink(file).catch(() => undefined);
        removed += 1;
      }
    }
    return removed;
  }
}
