import { AppError } from '../errors.js';
import { Coalescer } from '../shared/coalescer.js';
import type { InboundEvent } from '../webhook/inbound-event.js';
import type { Db } from './db.js';
import {
  appendToJournal,
  distinctJournalRows,
  JOURNAL_SLICE_ROWS,
  runJournalStatement,
  type JournalAppendResult,
  type JournalRow,
} from './journal-repository.js';

export interface JournalBatcherOptions {
  /** Journal statements allowed to run at once; requests arriving while all are busy share the next one. */
  maxInFlight?: number;
}

/** One webhook request waiting for its rows to be durable. */
interface Request {
  requestId: string;
  /** Its events, in-request duplicates already dropped. */
  rows: JournalRow[];
  eventCount: number;
}

/** Statements and requests since start: the benchmark's "journal statements per request". */
export interface JournalBatcherStats {
  requests: number;
  statements: number;
}

/**
 * Group commit for the webhook ack path. Each webhook request used to run its own journal INSERT
 * (its own commit); under load that was about three statements per routed message, as every reply
 * brings three status webhooks. Here, while fewer than `maxInFlight` statements run, a request is
 * written at once (no added latency when idle); otherwise it waits, and the next free slot writes
 * ALL waiting requests in one statement (up to JOURNAL_SLICE_ROWS rows; shared/coalescer.ts). No timer: batches form only
 * from requests that arrive while the database is busy anyway.
 *
 * Every caller still resolves only once its own rows are committed, with its own counts, exactly as
 * `appendToJournal` would answer it alone. A key sent by two requests of one statement is written
 * once, for the earlier, and is a duplicate for the later. If a shared statement fails for a reason
 * other than the store being unreachable, each request is retried alone so that one bad batch
 * cannot fail its neighbours; a retryable failure (STORE_UNAVAILABLE, DB_TIMEOUT) rejects them all,
 * and Meta, answered 503, delivers again.
 */
export class JournalBatcher {
  private readonly coalescer: Coalescer<Request, JournalAppendResult>;
  private readonly counts: JournalBatcherStats = { requests: 0, statements: 0 };

  constructor(
    private readonly db: Db,
    options: JournalBatcherOptions = {},
  ) {
    this.coalescer = new Coalescer({
      maxBatch: Number.MAX_SAFE_INTEGER,
      maxInFlight: Math.max(1, options.maxInFlight ?? 2),
      sizeOf: (r) => r.rows.length,
      maxSize: JOURNAL_SLICE_ROWS,
      run: (batch) => this.write(batch),
      // A shared statement that failed for a reason one request may carry: each request alone.
      splitWhen: (err) => !(err instanceof AppError && err.retryable),
    });
  }

  stats(): JournalBatcherStats {
    return { ...this.counts };
  }

  async append(events: readonly InboundEvent[], requestId: string): Promise<JournalAppendResult> {
    this.counts.requests += 1;
    // A batch bigger than a statement keeps its own sliced transaction (atomic, event loop yielded).
    if (events.length > JOURNAL_SLICE_ROWS) {
      this.counts.statements += Math.ceil(events.length / JOURNAL_SLICE_ROWS);
      return appendToJournal(this.db, events, requestId);
    }
    const rows = await distinctJournalRows(events);
    if (rows.length === 0) return { inserted: [], pending: [], duplicates: events.length };
    return this.coalescer.submit({ requestId, rows, eventCount: events.length });
  }

  /** ONE statement for the batch; each waiter's result in batch order. */
  private async write(batch: readonly Request[]): Promise<JournalAppendResult[]> {
    const statementRequest = batch[0]!.requestId;
    const owner = new Map<string, number>();
    const rows: JournalRow[] = [];
    batch.forEach((w, i) => {
      for (const row of w.rows) {
        if (owner.has(row.clave)) continue; // an earlier request of this statement brings it
        owner.set(row.clave, i);
        // Copies: `ord` and `request_id` belong to this statement, and a retry alone builds its own.
        rows.push(w.requestId === statementRequest ? { ...row } : { ...row, request_id: w.requestId });
      }
    });
    this.counts.statements += 1;
    const written = await runJournalStatement(this.db, rows, statementRequest);
    const results = batch.map((): JournalAppendResult => ({ inserted: [], pending: [], duplicates: 0 }));
    for (const r of written) {
      const result = results[owner.get(r.clave)!]!;
      const row = { id: r.id, kind: r.tipo, convKey: r.conv_key };
      result.inserted.push(row);
      if (r.estado === 'pendiente') result.pending.push(row);
    }
    batch.forEach((w, i) => (results[i]!.duplicates = w.eventCount - results[i]!.inserted.length));
    return results;
  }
}
