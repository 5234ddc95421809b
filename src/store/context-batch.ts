import type { AppError } from '../errors.js';
import { batchFunction, runBatchFunction } from './batch-function.js';
import type { Queryable } from './db.js';
import {
  CONTEXT_CTES,
  CONTEXT_SELECT,
  contextParams,
  contextResult,
  type ContextOptions,
  type ContextResult,
} from './context-query.js';

/**
 * THE context query (context-query.ts, the one source of its SQL) for many conversations in one
 * round trip and one commit: each conversation keeps the single statement's semantics — lease
 * first — and one that fails fails alone (batch-function.ts).
 */
export const CONTEXT_BATCH = batchFunction({
  prefix: 'router_contextos',
  ctes: CONTEXT_CTES,
  select: CONTEXT_SELECT,
  perItem: [{ n: 1, type: 'text' }],
  shared: [
    { n: 2, type: 'text' },
    { n: 3, type: 'double precision' },
    { n: 4, type: 'double precision' },
    { n: 5, type: 'boolean' },
    { n: 6, type: 'text' },
    { n: 7, type: 'text' },
  ],
});

/**
 * Contexts of `keys` (distinct), answered in their order: a result, or the AppError of that key's
 * statement. Keys are locked in sorted order, so two processes batching overlapping keys take their
 * leases in one order and cannot deadlock on them.
 */
export async function loadContexts(
  db: Queryable,
  keys: readonly string[],
  owner: string,
  leaseMs: number,
  orderWaitMs: number,
  options: ContextOptions,
): Promise<(ContextResult | AppError)[]> {
  const sorted = [...keys].sort();
  const shared = contextParams('', owner, leaseMs, orderWaitMs, options).slice(1);
  const rows = await runBatchFunction(
    db,
    CONTEXT_BATCH,
    sorted.map((k) => [k]),
    shared,
  );
  const byKey = new Map(sorted.map((k, i) => [k, rows[i]]));
  return keys.map((k) => {
    const r = byKey.get(k);
    return r instanceof Error ? (r as AppError) : contextResult(r, options);
  });
}
