import type { Logger } from 'pino';
import { isAppError } from '../errors.js';
import { Coalescer } from '../shared/coalescer.js';
import type { Queryable } from '../store/db.js';
import { loadContexts } from '../store/context-batch.js';
import { loadConversationContext, type ContextOptions, type ContextResult } from '../store/context-query.js';

export interface ContextBatcherOptions {
  owner: string;
  leaseMs: number;
  orderWaitMs: number;
  context: ContextOptions;
  /** Conversations per context statement (1: one statement each, as before batching). */
  maxBatch: number;
  /** Context statements of this process running at once. */
  maxInFlight: number;
}

/**
 * The processor's door to the context query. Conversations that become ready while context
 * statements are running are resolved together by the next one (store/context-batch.ts): one round
 * trip and one commit for N conversations instead of N. A lone conversation takes the single
 * statement. Should the batch function be missing (a database restored without it), the batcher
 * falls back to single statements until the next start's migrate creates it.
 */
export class ContextBatcher {
  private readonly coalescer: Coalescer<string, ContextResult>;
  private functionMissing = false;

  constructor(
    private readonly db: Queryable,
    private readonly options: ContextBatcherOptions,
    private readonly log: Logger,
  ) {
    this.coalescer = new Coalescer({
      maxBatch: Math.max(1, options.maxBatch),
      maxInFlight: Math.max(1, options.maxInFlight),
      run: (keys) => this.run(keys),
    });
  }

  load(convKey: string): Promise<ContextResult> {
    return this.coalescer.submit(convKey);
  }

  stats() {
    return this.coalescer.stats();
  }

  private async run(keys: string[]): Promise<(ContextResult | Error)[]> {
    const { owner, leaseMs, orderWaitMs, context } = this.options;
    if (keys.length > 1 && !this.functionMissing) {
      try {
        return await loadContexts(this.db, keys, owner, leaseMs, orderWaitMs, context);
      } catch (err) {
        if (!(isAppError(err) && err.details?.dbCode === '42883')) throw err;
        this.functionMissing = true;
        this.log.warn('context batch function missing; one context statement per conversation until restart');
      }
    }
    // One at a time, each failing alone (keys.length is 1 unless the function is missing).
    const results: (ContextResult | Error)[] = [];
    for (const key of keys) {
      try {
        results.push(await loadConversationContext(this.db, key, owner, leaseMs, orderWaitMs, context));
      } catch (err) {
        results.push(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return results;
  }
}
