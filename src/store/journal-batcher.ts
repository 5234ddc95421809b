import { AppError } from '../errors.js';
import type { InboundEvent } from '../webhook/inbound-event.js';
import type { Db } from './db.js';
import {
  appendToJournal,
  JOURNAL_SLICE_ROWS,
  journalRow,
  runJournalStatement,
  type JournalAppendResult,
  type JournalRow,
} from './journal-repository.js';

export interface JournalBatcherOptions {
  /** Journal statements allowed to run at once; requests arriving while all are busy share the next one. */
  maxInFlight?: number;
}

/** One webhook request waiting for its rows to be durable. */
interface Waiter {
  requestId: string;
  /** Its events, in-request duplicates already dropped. */
  rows: JournalRow[];
  eventCount: number;
  resolve: (result: JournalAppendResult) => void;
  reject: (err: unknown) => void;
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
 * ALL waiting requests in one statement (up to JOURNAL_SLICE_ROWS rows). No timer: batches form only
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
  private readonly maxInFlight: number;
  private readonly waiting: Waiter[] = [];
  private inFlight = 0;
  private readonly counts: JournalBatcherStats = { requests: 0, statements: 0 };

  constructor(
    private readonly db: Db,
    options: JournalBatcherOptions = {},
  ) {
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 2);
  }

  stats(): JournalBatcherStats {
    return { ...this.counts };
  }

  append(events: readonly InboundEvent[], requestId: string): Promise<JournalAppendResult> {
    this.counts.requests += 1;
    // A batch bigger than a statement keeps its own sliced transaction (atomic, event loop yielded).
    if (events.length > JOURNAL_SLICE_ROWS) {
      this.counts.statements += Math.ceil(events.length / JOURNAL_SLICE_ROWS);
      return appendToJournal(this.db, events, requestId);
    }
    let rows: JournalRow[];
    try {
      rows = distinctRows(events);
    } catch (err) {
      return Promise.reject(err);
    }
    if (rows.length === 0) return Promise.resolve({ inserted: [], pending: [], duplicates: events.length });
    return new Promise<JournalAppendResult>((resolve, reject) => {
      this.waiting.push({ requestId, rows, eventCount: events.length, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const batch = this.takeBatch();
      this.inFlight += 1;
      void this.settle(batch).then((answer) => {
        // The slot is free before any caller hears back: a caller that appends again at once
        // finds it free, instead of waiting for a statement that already ended.
        this.inFlight -= 1;
        answer();
        this.pump();
      });
    }
  }

  /** The waiting requests, oldest first, whose rows fit one statement (the first always goes). */
  private takeBatch(): Waiter[] {
    let rows = this.waiting[0]!.rows.length;
    let n = 1;
    while (n < this.waiting.length && rows + this.waiting[n]!.rows.length <= JOURNAL_SLICE_ROWS) {
      rows += this.waiting[n]!.rows.length;
      n += 1;
    }
    return this.waiting.splice(0, n);
  }

  /** Writes the batch; resolves (never rejects) to what answers its waiters. */
  private async settle(batch: Waiter[]): Promise<() => void> {
    try {
      const results = await this.write(batch);
      return () => batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (err) {
      if (batch.length === 1 || (err instanceof AppError && err.retryable)) {
        return () => batch.forEach((w) => w.reject(err));
      }
    }
    // A shared statement failed for a reason one request may carry: each is tried alone, and
    // answered as soon as its own statement ends.
    await Promise.all(
      batch.map(async (w) => {
        try {
          w.resolve((await this.write([w]))[0]!);
        } catch (err) {
          w.reject(err);
        }
      }),
    );
    return () => undefined;
  }

  /** ONE statement for the batch; each waiter's result in batch order. */
  private async write(batch: readonly Waiter[]): Promise<JournalAppendResult[]> {
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

/** The request's rows with in-request duplicate keys dropped, as `appendToJournal` does. */
function distinctRows(events: readonly InboundEvent[]): JournalRow[] {
  const seen = new Set<string>();
  const rows: JournalRow[] = [];
  for (const event of events) {
    const row = journalRow(event);
    if (seen.has(row.clave)) continue;
    seen.add(row.clave);
    rows.push(row);
  }
  return rows;
}
