import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { AppError, isAppError } from '../errors.js';
import { ClaimLoop, type PassResult } from '../shared/claim-loop.js';
import { msSince as ms, settlesWithin } from '../shared/timing.js';
import { workerId } from '../shared/worker-id.js';
import type { Db } from '../store/db.js';
import {
  claimMediaJobs,
  completeMediaJob,
  failMediaJob,
  releaseMediaClaims,
  type MediaJob,
} from '../store/media-repository.js';
import type { GraphMediaClient, MediaInfo } from './graph-media-client.js';
import { MediaCheckStream, maxBytesFor, sha256Matches, sizeProblem, type MediaLimits } from './media-checks.js';
import { mediaBackoffMs, mediaErrorText } from './media-failure.js';
import { buildMediaKey } from './media-keys.js';
import { MediaSpool } from './media-spool.js';
import type { MediaStore } from './media-store.js';

export interface MediaDownloaderOptions {
  /** Downloads at once per process (each streams to a spool file: memory stays flat whatever the size). */
  concurrency: number;
  /** Directory of the spool files (DATA_DIR/media-spool). */
  spoolDir: string;
  pollMs: number;
  /** Attempts before a job is `fallido` (transient failures only; a gone or oversized file fails at once). */
  maxAttempts: number;
  /** Timeout of one Graph or download request; the claim lease is derived from it. */
  timeoutMs: number;
  limits: MediaLimits;
  /** First retry delay; doubles per attempt. Default 5 s. */
  backoffBaseMs?: number;
}

type MediaOutcome = 'stored' | 'retry' | 'failed' | 'lost';

/**
 * Drains `router_media_jobs`: for each job, look the media id up on the Graph API, check the size
 * against the type's limit before downloading, stream the download to a spool file through a byte
 * cap and the SHA-256 (never held whole in memory), verify the checksum Meta published, store the file (local disk or Supabase Storage) and record it on the message in one
 * statement. Runs beside processing, never inside it, so a slow download delays no conversation.
 * Claims are leases, so several processes drain together and a crashed one's jobs are taken over.
 * Slots are refilled as soon as one frees up: one 100 MB document does not hold the others back.
 */
export class MediaDownloader {
  readonly owner = workerId('media');
  private readonly log: Logger;
  private readonly active = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private started = false;
  private readonly loop: ClaimLoop;
  private readonly spool: MediaSpool;

  constructor(
    private readonly db: Db,
    private readonly graph: GraphMediaClient,
    private readonly store: MediaStore,
    private readonly options: MediaDownloaderOptions,
    log: Logger,
  ) {
    this.log = log.child({ module: 'media' });
    this.spool = new MediaSpool(options.spoolDir);
    this.loop = new ClaimLoop({
      name: 'media',
      pollMs: options.pollMs,
      log: this.log,
      pass: () => this.claimPass(),
      onPassError: () => ({ idle: this.active.size === 0, again: false }),
    });
  }

  /** Long enough for a lookup, a download, one re-lookup and re-download, and the upload. */
  private get leaseMs(): number {
    return 4 * this.options.timeoutMs + 30_000;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.spool.sweep(this.leaseMs).then(
      (removed) => removed > 0 && this.log.info({ removed }, 'removed spool files left by a crash'),
      () => undefined,
    );
    this.loop.start();
  }

  /** A media job was committed (or a slot freed up): look now instead of at the next poll. */
  wake(): void {
    this.loop.wake();
  }

  /** Resolves when a pass found nothing due and nothing is downloading (tests); at once when not running. */
  whenIdle(): Promise<void> {
    return this.loop.whenIdle();
  }

  /**
   * Stops claiming, gives in-flight downloads `graceMs` to finish, aborts the rest and hands their
   * jobs back at once (they are retried by whichever process drains next).
   */
  async stop(graceMs: number): Promise<void> {
    await this.loop.stop();
    if (!this.started) return;
    if (!(await settlesWithin(this.allActive(), graceMs))) {
      this.abort.abort();
      // Graph calls end at once; an upload to Storage in progress gets a moment more, then its
      // claim simply expires if it could not record itself before the pool closed.
      await settlesWithin(this.allActive(), 1_000);
    }
    try {
      await releaseMediaClaims(this.db, this.owner);
    } catch (err) {
      this.log.warn(
        { err: { message: (err as Error).message } },
        'could not hand media jobs back; their claims expire by themselves',
      );
    }
  }

  /** Claims as many due jobs as there are free slots; a finished download wakes the loop again. */
  private async claimPass(): Promise<PassResult> {
    const free = this.options.concurrency - this.active.size;
    let claimed = 0;
    if (free > 0) {
      const jobs = await claimMediaJobs(this.db, { owner: this.owner, limit: free, leaseMs: this.leaseMs });
      claimed = jobs.length;
      for (const job of jobs) this.track(this.handle(job));
    }
    // All free slots filled: there may be more due work, so look again at once (it sleeps when full).
    return { idle: claimed === 0 && this.active.size === 0, again: free > 0 && claimed === free };
  }

  private allActive(): Promise<unknown> {
    return Promise.allSettled([...this.active]);
  }

  private track(work: Promise<void>): void {
    this.active.add(work);
    void work
      .catch((err: unknown) =>
        this.log.error({ err: { message: (err as Error)?.message } }, 'unexpected media job error'),
      )
      .finally(() => {
        this.active.delete(work);
        this.wake();
      });
  }

  private async handle(job: MediaJob): Promise<void> {
    const started = performance.now();
    // Ids and sizes only: file names, URLs and media keys can carry personal data or credentials.
    const base = { jobId: job.id, messageId: job.mensaje_id, mediaType: job.tipo, attempt: job.intentos };
    try {
      const stored = await this.fetchAndStore(job);
      const recorded = await completeMediaJob(this.db, { id: job.id, owner: this.owner, ...stored });
      const outcome: MediaOutcome = recorded ? 'stored' : 'lost';
      this.log[recorded ? 'info' : 'warn'](
        { ...base, outcome, storage: this.store.kind, bytes: stored.size, durationMs: ms(started) },
        recorded ? 'media stored' : 'media stored but the job was taken over meanwhile',
      );
    } catch (err) {
      // Aborted by shutdown: stop() hands the job back without counting it as a failure.
      if (this.abort.signal.aborted) return;
      const retry = isAppError(err) && err.retryable && job.intentos < this.options.maxAttempts;
      const backoffMs = retry ? mediaBackoffMs(job.intentos, this.options.backoffBaseMs) : 0;
      const code = isAppError(err) ? err.code : 'INTERNAL';
      const error = mediaErrorText(err);
      try {
        await failMediaJob(this.db, { id: job.id, owner: this.owner, retry, backoffMs, error });
      } catch (dbErr) {
        this.log.warn(
          { ...base, err: { message: (dbErr as Error).message } },
          'could not record media failure; the claim expires and the job is retried',
        );
        return;
      }
      const outcome: MediaOutcome = retry ? 'retry' : 'failed';
      this.log[retry ? 'warn' : 'error'](
        {
          ...base,
          outcome,
          code,
          reason: error.split(':')[0],
          backoffMs: retry ? backoffMs : undefined,
          durationMs: ms(started),
        },
        retry ? 'media download failed; will retry' : 'media download failed for good; message kept with media_error',
      );
    }
  }

  private async fetchAndStore(job: MediaJob) {
    const signal = this.abort.signal;
    const limit = maxBytesFor(job.tipo, this.options.limits);
    const file = await this.spool.fileFor(job.id);
    try {
      let info = await this.lookup(job);
      let checked: MediaCheckStream;
      try {
        checked = await this.download(job, info, limit, file);
      } catch (err) {
        if (!isAppError(err) || err.code !== 'MEDIA_URL_EXPIRED') throw err;
        // Meta's download URLs live about five minutes; a job that waited longer (backlog, backoff)
        // holds a dead one. Exactly one fresh lookup, then one more try; a second expiry is transient.
        this.log.info(
          { jobId: job.id, messageId: job.mensaje_id },
          'media download URL expired; looking the id up again',
        );
        info = await this.lookup(job);
        checked = await this.download(job, info, limit, file);
      }
      const digest = checked.digest();
      const size = checked.size;
      const published = [info.sha256, job.sha256].filter((v): v is string => typeof v === 'string');
      if (!published.every((expected) => sha256Matches(expected, digest))) {
        throw new AppError(
          'MEDIA_CHECKSUM_MISMATCH',
          `downloaded ${size} bytes do not hash to the SHA-256 Meta published`,
        );
      }
      if (published.length === 0 && info.fileSize !== null && info.fileSize !== size) {
        throw new AppError(
          'MEDIA_CHECKSUM_MISMATCH',
          `downloaded ${size} bytes, Meta announced ${info.fileSize} (no SHA-256 to check)`,
        );
      }
      if (signal.aborted) throw new AppError('MEDIA_UNAVAILABLE', 'aborted');
      const mimeType = info.mimeType ?? job.mime_type;
      const key = buildMediaKey({
        messageId: job.mensaje_id,
        type: job.tipo ?? 'media',
        filename: job.filename,
        mimeType,
        createdAt: job.created_at,
      });
      const stored = await this.store.put(key, { path: file, size }, mimeType ?? 'application/octet-stream');
      return {
        storage: this.store.kind,
        key: stored.key,
        url: stored.url,
        mimeType,
        filename: key.slice(key.lastIndexOf('/') + 1),
        size,
        sha256: digest.toString('hex'),
      };
    } finally {
      // Whatever happened, the spool file goes (the local store has moved it already).
      await this.spool.discard(file);
    }
  }

  private async lookup(job: MediaJob): Promise<MediaInfo> {
    const info = await this.graph.lookup(job.media_id, this.abort.signal);
    // Checked before downloading: an oversized file costs one small request, not its bytes.
    const problem = info.fileSize === null ? null : sizeProblem(info.fileSize, job.tipo, this.options.limits);
    if (problem) throw new AppError('MEDIA_TOO_LARGE', problem, { details: { bytes: info.fileSize } });
    return info;
  }

  /** Streams the file into `file` through the size cap and the hash; memory holds only chunks in flight. */
  private async download(job: MediaJob, info: MediaInfo, limit: number, file: string): Promise<MediaCheckStream> {
    let body: Readable;
    try {
      body = await this.graph.open(info.url, limit, this.abort.signal);
    } catch (err) {
      // Meta announced no size (or a wrong one), but the answer's Content-Length is over the limit.
      if (isAppError(err) && err.code === 'MEDIA_TOO_LARGE')
        throw new AppError('MEDIA_TOO_LARGE', `${err.message} for ${job.tipo ?? 'media'}`, { cause: err });
      throw err;
    }
    const checks = new MediaCheckStream(limit, job.tipo);
    try {
      await pipeline(body, checks, createWriteStream(file, { mode: 0o640 }));
    } catch (err) {
      if (isAppError(err)) throw err; // over the limit, or the transfer broke
      throw new AppError('MEDIA_STORE_FAILED', `spool: ${(err as NodeJS.ErrnoException).code ?? 'write failed'}`, {
        cause: err,
      });
    }
    return checks;
  }
}
