import type { Logger } from 'pino';
import { isAppError } from '../errors.js';
import { Coalescer } from '../shared/coalescer.js';
import type { Queryable } from '../store/db.js';
import { recordSentMany, type SentRecord } from '../store/outbox-repository.js';

/** Rows per statement at most, so one statement's parameters stay small whatever the backlog. */
const MAX_BATCH = 500;

/**
 * Records accepted sends of the outbox sender together (shared/coalescer.ts): a record asked for
 * while another record statement is running waits for it, then goes with every other one that
 * queued meanwhile in one statement (recordSentMany); with none running it goes at the end of the
 * current event-loop turn, with whatever else was answered in that turn. Each
 * `record()` resolves, with the ids of the orphan statuses its row revived, only once its row is
 * committed — the next message of that recipient becomes claimable then.
 *
 * A batch the database refuses as unavailable (STORE_UNAVAILABLE, or DB_TIMEOUT: row by row would
 * only wait out the timeout once per row) rejects every record with that error: the caller keeps
 * them to record later. Any other failure may come from one row alone (a wamid another writer gave
 * a message at the same moment: the unique wamid index), so each row is then recorded in a
 * statement of its own and only the ones that fail again reject.
 */
export class RecordBatcher {
  private readonly coalescer: Coalescer<SentRecord, string[]>;

  constructor(
    private readonly db: Queryable,
    private readonly owner: string,
    private readonly log: Logger,
  ) {
    this.coalescer = new Coalescer({
      maxBatch: MAX_BATCH,
      maxInFlight: 1,
      gatherTurn: true,
      run: async (batch) => revivedPerRow(batch, await recordSentMany(this.db, this.owner, batch)),
      splitWhen: (err) => {
        if (databaseAway(err)) return false;
        this.log.warn(
          { err: { code: isAppError(err) ? err.code : undefined, message: (err as Error).message } },
          'batched outbox record failed; recording each row alone',
        );
        return true;
      },
    });
  }

  /** Records one row; resolves with the revived status ids once it is committed. */
  record(id: string, wamid: string | null): Promise<string[]> {
    return this.coalescer.submit({ id, wamid });
  }
}

/** The database is away or too slow right now: no row would fare better alone. */
export const databaseAway = (err: unknown): boolean =>
  isAppError(err) && (err.code === 'STORE_UNAVAILABLE' || err.code === 'DB_TIMEOUT');

/** The revived statuses that belong to each row's outbox id, in the batch's order. */
function revivedPerRow(batch: SentRecord[], revived: { id: string; outboxId: string }[]): string[][] {
  const byOutbox = new Map<string, string[]>();
  for (const r of revived) {
    const ids = byOutbox.get(r.outboxId);
    if (ids) ids.push(r.id);
    else byOutbox.set(r.outboxId, [r.id]);
  }
  return batch.map((row) => byOutbox.get(row.id) ?? []);
}
