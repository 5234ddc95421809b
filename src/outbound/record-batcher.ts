import type { Logger } from 'pino';
import { isAppError } from '../errors.js';
import type { Queryable } from '../store/db.js';
import { recordSentMany, type SentRecord } from '../store/outbox-repository.js';

/** Rows per statement at most, so one statement's parameters stay small whatever the backlog. */
const MAX_BATCH = 500;

interface Waiting extends SentRecord {
  resolve: (revived: string[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Records accepted sends of the outbox sender together: a record asked for while another record
 * statement is running waits for it, then goes with every other one that queued meanwhile in one
 * statement (recordSentMany). Nothing waits on a clock: with no statement running, the queue is
 * written at the end of the current event-loop turn (setImmediate, so sends answered in the same
 * turn share it). Each `record()` resolves, with the ids of the orphan statuses its row revived,
 * only once its row is committed — the next message of that recipient becomes claimable then.
 *
 * A batch the database refuses as unavailable (STORE_UNAVAILABLE, or DB_TIMEOUT: row by row would
 * only wait out the timeout once per row) rejects every record with that error: the caller keeps
 * them to record later. Any other failure may come from one row alone (a wamid another writer gave
 * a message at the same moment: the unique wamid index), so each row is then recorded in a
 * statement of its own and only the ones that fail again reject.
 */
export class RecordBatcher {
  private queue: Waiting[] = [];
  private running = false;

  constructor(
    private readonly db: Queryable,
    private readonly owner: string,
    private readonly log: Logger,
  ) {}

  /** Records one row; resolves with the revived status ids once it is committed. */
  record(id: string, wamid: string | null): Promise<string[]> {
    return new Promise<string[]>((resolve, reject) => {
      this.queue.push({ id, wamid, resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.write(this.queue.splice(0, MAX_BATCH));
    } finally {
      this.running = false;
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    try {
      settle(batch, await recordSentMany(this.db, this.owner, batch));
      return;
    } catch (err) {
      if (batch.length === 1 || databaseAway(err)) {
        for (const w of batch) w.reject(err);
        return;
      }
      this.log.warn(
        { rows: batch.length, err: { code: isAppError(err) ? err.code : undefined, message: (err as Error).message } },
        'batched outbox record failed; recording each row alone',
      );
    }
    for (const w of batch) {
      try {
        settle([w], await recordSentMany(this.db, this.owner, [w]));
      } catch (err) {
        w.reject(err);
      }
    }
  }
}

/** The database is away or too slow right now: no row would fare better alone. */
export const databaseAway = (err: unknown): boolean =>
  isAppError(err) && (err.code === 'STORE_UNAVAILABLE' || err.code === 'DB_TIMEOUT');

/** Resolves each waiting record with the revived statuses that belong to its outbox row. */
function settle(batch: Waiting[], revived: { id: string; outboxId: string }[]): void {
  const byOutbox = new Map<string, string[]>();
  for (const r of revived) {
    const ids = byOutbox.get(r.outboxId);
    if (ids) ids.push(r.id);
    else byOutbox.set(r.outboxId, [r.id]);
  }
  for (const w of batch) w.resolve(byOutbox.get(w.id) ?? []);
}
