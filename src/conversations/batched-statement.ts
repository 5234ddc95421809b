import type { Logger } from 'pino';
import { isAppError } from '../errors.js';
import { Coalescer } from '../shared/coalescer.js';

export interface BatchedStatementOptions<I, O> {
  /** For the log line of the fallback. */
  name: string;
  /** Items per statement (1: one statement each, as before batching). */
  maxBatch: number;
  /** Statements of this kind running at once in this process. */
  maxInFlight: number;
  /** The batch form: one statement for all items, an answer (or an Error) per item. */
  many: (items: I[]) => Promise<(O | Error)[]>;
  /** The single form. */
  one: (item: I) => Promise<O>;
}

/**
 * A statement of the processor's that items share when they come together: items that become ready
 * while statements of the kind run go out together in the next one (shared/coalescer.ts) — one
 * round trip and one commit for N instead of N; a lone item takes the single statement. Should the
 * batch function be missing (a database restored without it), the single form is used until the
 * next start's migrate creates it.
 */
export class BatchedStatement<I, O> {
  private readonly coalescer: Coalescer<I, O>;
  private functionMissing = false;

  constructor(
    private readonly options: BatchedStatementOptions<I, O>,
    private readonly log: Logger,
  ) {
    this.coalescer = new Coalescer({
      maxBatch: Math.max(1, options.maxBatch),
      maxInFlight: Math.max(1, options.maxInFlight),
      run: (items) => this.run(items),
    });
  }

  submit(item: I): Promise<O> {
    return this.coalescer.submit(item);
  }

  stats() {
    return this.coalescer.stats();
  }

  private async run(items: I[]): Promise<(O | Error)[]> {
    if (items.length > 1 && !this.functionMissing) {
      try {
        return await this.options.many(items);
      } catch (err) {
        if (!(isAppError(err) && err.details?.dbCode === '42883')) throw err;
        this.functionMissing = true;
        this.log.warn({ statement: this.options.name }, 'batch function missing; one statement per item until restart');
      }
    }
    // One at a time, each failing alone (items.length is 1 unless the function is missing).
    const results: (O | Error)[] = [];
    for (const item of items) {
      try {
        results.push(await this.options.one(item));
      } catch (err) {
        results.push(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return results;
  }
}
