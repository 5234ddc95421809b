/**
 * Natural batching ("group commit") for statements that can take many items at once. Items submitted
 * while fewer than `maxInFlight` batches run go out at once, so an idle service adds no latency;
 * items submitted while every slot is busy wait, and the next free slot takes all of them (up to
 * `maxBatch`) in one batch. No timers: under load batches grow by themselves, at rest they are one.
 *
 * `run` answers every item of its batch, in order: a value, or an Error that fails that item alone.
 * If `run` itself throws, every item of the batch fails with that error — unless `splitWhen` says
 * the error may be one item's: then each item is run again in a batch of its own.
 */
export interface CoalescerOptions<I, O> {
  maxBatch: number;
  maxInFlight: number;
  run: (items: I[]) => Promise<(O | Error)[]>;
  /**
   * With a slot free, wait for the end of the current event-loop turn (setImmediate) before sending,
   * so items submitted in the same turn (answers that arrived together) share the batch.
   */
  gatherTurn?: boolean;
  /**
   * The size of an item (e.g. its rows) and the most one batch may carry: a batch takes waiting
   * items while they fit, the first one always. Without them only `maxBatch` counts.
   */
  sizeOf?: (item: I) => number;
  maxSize?: number;
  /**
   * A batch of several that `run` failed as a whole with this error is run again item by item, one
   * after another, so one item's bad data fails that item alone. Not for errors that every item would
   * meet again (the database away): those fail the batch at once.
   */
  splitWhen?: (err: unknown) => boolean;
}

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

export class Coalescer<I, O> {
  private readonly queue: Waiting<I, O>[] = [];
  private inFlight = 0;
  private batches = 0;
  private items = 0;
  private turnScheduled = false;

  constructor(private readonly options: CoalescerOptions<I, O>) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.options.gatherTurn) this.pump();
      else if (!this.turnScheduled) {
        this.turnScheduled = true;
        setImmediate(() => {
          this.turnScheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Batches run and items carried since start (items / batches = the mean batch size). */
  stats(): { batches: number; items: number; waiting: number; inFlight: number } {
    return { batches: this.batches, items: this.items, waiting: this.queue.length, inFlight: this.inFlight };
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.fitting());
      this.inFlight += 1;
      this.batches += 1;
      this.items += batch.length;
      void this.runBatch(batch);
    }
  }

  /** How many of the waiting items the next batch takes. */
  private fitting(): number {
    const { maxBatch, sizeOf, maxSize } = this.options;
    if (!sizeOf || maxSize === undefined) return maxBatch;
    let n = 1;
    let size = sizeOf(this.queue[0]!.item);
    while (n < Math.min(maxBatch, this.queue.length) && size + sizeOf(this.queue[n]!.item) <= maxSize) {
      size += sizeOf(this.queue[n]!.item);
      n += 1;
    }
    return n;
  }

  private async runBatch(batch: Waiting<I, O>[]): Promise<void> {
    let answer: () => void;
    try {
      const results = await this.runItems(batch.map((w) => w.item));
      answer = () =>
        batch.forEach((w, i) => {
          const r = results[i];
          if (r instanceof Error) w.reject(r);
          else if (i >= results.length) w.reject(new Error('batch returned fewer results than items'));
          else w.resolve(r as O);
        });
    } catch (err) {
      answer = () => batch.forEach((w) => w.reject(err));
    }
    // The slot is free before any caller hears back: a caller that submits again at once finds it
    // free instead of queueing behind a statement that already ended.
    this.inFlight -= 1;
    answer();
    this.pump();
  }

  /** `run` over the items; split into single-item runs when `splitWhen` holds for its failure. */
  private async runItems(items: I[]): Promise<(O | Error)[]> {
    try {
      return await this.options.run(items);
    } catch (err) {
      if (items.length === 1 || !this.options.splitWhen?.(err)) throw err;
    }
    const results: (O | Error)[] = [];
    for (const item of items) {
      try {
        const alone = await this.options.run([item]);
        results.push(alone.length > 0 ? alone[0]! : new Error('batch returned fewer results than items'));
      } catch (err) {
        results.push(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return results;
  }
}
