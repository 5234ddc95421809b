import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Db } from '../store/db.js';
import { listDeadEvents, replayDeadEvents, type DeadEvent } from '../store/dead-letter-repository.js';
import { INBOUND_QUEUE } from './queues.js';

export interface DeadLetters {
  /** Events whose processing failed PROCESS_MAX_ATTEMPTS times (journal `muerto`). */
  events: DeadEvent[];
  /** Queue-mode jobs whose event the journal refused QUEUE_JOB_ATTEMPTS times (BullMQ failed set; an outage never puts one there). */
  jobs: { id: string; attemptsMade: number; failedReason: string; timestamp: number }[];
}

/**
 * The two dead-letter places behind one API (admin endpoint and CLI): poison events in the journal
 * and, in queue mode, jobs BullMQ gave up on. Replaying puts them back where they came from.
 */
export class DeadLetterService {
  private opened: Queue | null = null;

  constructor(
    private readonly db: Db,
    private readonly connection: Redis | null,
    private readonly schedule: (rows: { id: string; kind: string; convKey: string | null }[]) => void,
  ) {}

  /** Opened (and BullMQ loaded) on first use: most processes never look at dead letters. */
  private async queue(): Promise<Queue | null> {
    if (!this.connection) return null;
    if (!this.opened) {
      const { Queue } = await import('bullmq');
      // Another caller may have opened it while this one waited for the import.
      if (!this.opened) {
        this.opened = new Queue(INBOUND_QUEUE, { connection: this.connection });
        this.opened.on('error', () => undefined);
      }
    }
    return this.opened;
  }

  async list(limit = 100): Promise<DeadLetters> {
    const events = await listDeadEvents(this.db, limit);
    const queue = await this.queue();
    const failed = queue ? await queue.getFailed(0, limit - 1) : [];
    return {
      events,
      jobs: failed.map((j) => ({
        id: String(j.id),
        attemptsMade: j.attemptsMade,
        failedReason: j.failedReason,
        timestamp: j.timestamp,
      })),
    };
  }

  /** `eventIds`/`jobIds` null = all of that kind. */
  async replay(args: {
    eventIds?: string[] | null;
    jobIds?: string[] | null;
  }): Promise<{ events: number; jobs: number }> {
    let events = 0;
    if (args.eventIds !== undefined) {
      const rows = await replayDeadEvents(this.db, args.eventIds);
      this.schedule(rows);
      events = rows.length;
    }
    let jobs = 0;
    const queue = args.jobIds !== undefined ? await this.queue() : null;
    if (queue && args.jobIds !== undefined) {
      const failed = await queue.getFailed(0, -1);
      for (const job of failed) {
        if (args.jobIds === null || args.jobIds.includes(String(job.id))) {
          await job.retry('failed');
          jobs += 1;
        }
      }
    }
    return { events, jobs };
  }

  async close(): Promise<void> {
    await this.opened?.close();
  }
}
