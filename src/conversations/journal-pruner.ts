import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Queryable } from '../store/db.js';
import { pruneJournal } from '../store/journal-repository.js';
import { errInfo } from './log-safe.js';

export interface JournalPrunerOptions {
  /** JOURNAL_RETENTION_DAYS: finished rows older than this go. */
  retentionDays: number;
  /** Rows deleted per statement. */
  batchSize?: number;
  /** Pause between two full batches, so a large backlog never holds the database for long. */
  batchPauseMs?: number;
  /** Time between passes. */
  intervalMs?: number;
  /** Delay of the first pass after start (plus up to as much again at random, so processes started together spread out). */
  firstDelayMs?: number;
}

const DEFAULTS = { batchSize: 1_000, batchPauseMs: 100, intervalMs: 3_600_000, firstDelayMs: 60_000 };

/**
 * Keeps `router_eventos` from growing without bound: every process that processes (direct-mode api,
 * queue-mode workers) prunes finished rows past JOURNAL_RETENTION_DAYS once an hour, in batches,
 * off the webhook and processing paths (its own timer, one statement at a time, a pause between
 * batches). Several processes may prune at once: each batch takes its rows with SKIP LOCKED, so they
 * share the work and never wait on one another.
 */
export class JournalPruner {
  private readonly o: Required<JournalPrunerOptions>;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private running: Promise<number> | null = null;

  constructor(
    private readonly db: Queryable,
    options: JournalPrunerOptions,
    log: Logger,
  ) {
    this.o = { ...DEFAULTS, ...options };
    this.log = log.child({ module: 'journal-pruner' });
  }

  start(): void {
    this.stopping = false;
    this.schedule(this.o.firstDelayMs + Math.floor(Math.random() * this.o.firstDelayMs));
  }

  /** Stops the timer and waits for a pass in progress to end its current batch. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** One pass: batches until one comes back short. Returns the rows deleted. Never runs twice at once. */
  runOnce(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<number> {
    const started = performance.now();
    let deleted = 0;
    for (;;) {
      const n = await pruneJournal(this.db, this.o.retentionDays, this.o.batchSize);
      deleted += n;
      if (n < this.o.batchSize || this.stopping) break;
      await delay(this.o.batchPauseMs, undefined, { ref: false });
    }
    if (deleted > 0) {
      this.log.info(
        { deleted, retentionDays: this.o.retentionDays, durationMs: Math.round(performance.now() - started) },
        'journal pruned',
      );
    }
    return deleted;
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.runOnce()
        .catch((err: unknown) => this.log.warn({ err: errInfo(err) }, 'journal pruning failed; next pass as planned'))
        .finally(() => this.schedule(this.o.intervalMs));
    }, delayMs);
    this.timer.unref();
  }
}
