import type { AppError } from '../errors.js';
import { batchFunction, runBatchFunction, type BatchFunction } from './batch-function.js';
import { universalCompletion, type Completion } from './completion-statement.js';
import type { Queryable } from './db.js';
import type { CompletionResult } from './processing-repository.js';
import type { SchemaProfile } from './schema-profile.js';

/**
 * The completion statement (completion-statement.ts) for many events in one round trip and one
 * commit, each in its own subtransaction (batch-function.ts): lease-fenced per event, and an event
 * whose writes fail (a CRM trigger) fails alone. Its shape depends on the live schema, so there is
 * one function per schema profile.
 */
export function completionBatch(profile: SchemaProfile): BatchFunction {
  return batchFunction({
    prefix: 'router_completar',
    ...universalCompletion(profile),
    perItem: [
      { n: 1, type: 'text' },
      { n: 2, type: 'text' },
      { n: 3, type: 'text' },
      { n: 4, type: 'text' },
      { n: 5, type: 'boolean' },
    ],
    shared: [],
  });
}

export async function completeEvents(
  db: Queryable,
  fn: BatchFunction,
  completions: readonly Completion[],
): Promise<(CompletionResult | AppError)[]> {
  const rows = await runBatchFunction(
    db,
    fn,
    completions.map((c) => [
      c.eventId,
      c.convKey,
      c.owner,
      c.writes ? JSON.stringify(c.writes) : null,
      c.mediaJob === true,
    ]),
    [],
  );
  return rows.map((r) => {
    if (r instanceof Error) return r as AppError;
    const row = r as { committed?: boolean; more?: boolean } | undefined;
    return { committed: Boolean(row?.committed), more: Boolean(row?.more) };
  });
}
