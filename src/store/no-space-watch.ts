import { statfs } from 'node:fs/promises';
import { AppError } from '../errors.js';
import { DISK_FULL_REASON } from './pg-errors.js';

/**
 * Remembers that the database refused a write for lack of space, so that readiness can say so: a
 * full disk still answers `SELECT 1`, which is all a plain ping sees. A database on another host
 * shows its disk only through such refusals, so the issue holds for `holdMs` after the last one
 * (the retries of the processor, the sender and Meta keep renewing it while the disk stays full).
 * The embedded database's disk is local, so its free space is also read directly.
 */
export class NoSpaceWatch {
  private lastAt = 0;

  constructor(
    private readonly holdMs: number,
    /** Directory whose filesystem holds the data (embedded engine only). */
    private readonly dataDir: string | null = null,
    /** Below this many free bytes the embedded database counts as full: one WAL segment (16 MiB). */
    private readonly floorBytes = 16 * 1024 * 1024,
  ) {}

  /** Called with every translated driver error. */
  note(err: AppError): void {
    if (isNoSpace(err)) this.lastAt = Date.now();
  }

  /** Throws STORE_UNAVAILABLE (details.reason disk_full) while the database cannot write. */
  async check(): Promise<void> {
    const recent = this.lastAt > 0 && Date.now() - this.lastAt < this.holdMs;
    const low = this.dataDir !== null && (await freeBytes(this.dataDir)) < this.floorBytes;
    if (recent || low) {
      throw new AppError('STORE_UNAVAILABLE', 'the database has no space left to write', {
        details: { reason: DISK_FULL_REASON },
      });
    }
  }
}

export const isNoSpace = (err: unknown): boolean =>
  err instanceof AppError && err.details?.['reason'] === DISK_FULL_REASON;

async function freeBytes(dir: string): Promise<number> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return Number.POSITIVE_INFINITY; // unreadable: say nothing rather than a false alarm
  }
}
