import { createHash } from 'node:crypto';
import type { AppError } from '../errors.js';
import type { Queryable, ScriptRunner } from './db.js';
import {
  CONTEXT_CTES,
  CONTEXT_SELECT,
  contextParams,
  contextResult,
  type ContextOptions,
  type ContextResult,
} from './context-query.js';
import { translatePgError } from './pg-errors.js';

/**
 * The context query for many conversations in one round trip and one commit (issue 12: set-based
 * processing). A PL/pgSQL function runs THE context statement (context-query.ts, the one source of
 * its SQL) once per conversation key, each in a subtransaction of its own, so every conversation
 * keeps exactly the single statement's semantics — lease first, its own snapshot of what the keys
 * before it wrote — and an error in one (a CRM trigger, a unique violation) fails that key alone.
 * The function's name carries a hash of its body: a router version with another context query
 * creates its own and never changes the one older processes of a rolling reload still call.
 */
const BODY = `
DECLARE k_conv text;
BEGIN
  FOREACH k_conv IN ARRAY $1 LOOP
    BEGIN
      RETURN QUERY ${CONTEXT_CTES.replace(/\$1(?!\d)/g, 'k_conv')}
        SELECT k_conv, to_json(z), NULL::text, NULL::text FROM (${CONTEXT_SELECT}) z;
    EXCEPTION WHEN OTHERS THEN
      -- QUERY_CANCELED (statement timeout) is not OTHERS: it fails the whole call, as it should.
      o_key := k_conv; o_ctx := NULL; o_err_code := SQLSTATE; o_err_msg := SQLERRM;
      RETURN NEXT;
    END;
  END LOOP;
END`;

export const CONTEXT_FUNCTION = `router_contextos_${createHash('sha256').update(BODY).digest('hex').slice(0, 12)}`;

const CREATE_FUNCTION = `CREATE OR REPLACE FUNCTION ${CONTEXT_FUNCTION}(
    text[], text, double precision, double precision, boolean, text, text)
  RETURNS TABLE (o_key text, o_ctx json, o_err_code text, o_err_msg text)
  LANGUAGE plpgsql VOLATILE
  -- The statement's generic plan is the one the single form settles on too; without this PL/pgSQL
  -- would plan the big statement afresh for every key (custom plans, ~1.5 ms each).
  SET plan_cache_mode = force_generic_plan
  AS $router_ctx$${BODY}$router_ctx$`;

/** Creates this version's function when missing (run by migrate(), under its advisory lock). */
export async function ensureContextFunction(conn: ScriptRunner): Promise<boolean> {
  const found = await conn.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_proc WHERE proname = $1', [
    CONTEXT_FUNCTION,
  ]);
  if ((found.rows[0]?.n ?? 0) > 0) return false;
  await conn.exec(CREATE_FUNCTION);
  return true;
}

interface BatchRow {
  o_key: string;
  o_ctx: unknown;
  o_err_code: string | null;
  o_err_msg: string | null;
}

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
  const params = contextParams('', owner, leaseMs, orderWaitMs, options);
  params[0] = sorted;
  const res = await db.query<BatchRow>(`SELECT * FROM ${CONTEXT_FUNCTION}($1, $2, $3, $4, $5, $6, $7)`, params);
  const byKey = new Map<string, ContextResult | AppError>();
  for (const row of res.rows) {
    // A failure raised after the key's row was produced (a deferred write of its statement) comes
    // as a second row for the key: the error wins, since the subtransaction was rolled back.
    if (row.o_err_code !== null) {
      byKey.set(row.o_key, translatePgError({ code: row.o_err_code, message: row.o_err_msg ?? 'context failed' }));
    } else if (!byKey.has(row.o_key)) {
      byKey.set(row.o_key, contextResult(row.o_ctx, options));
    }
  }
  return keys.map((k) => byKey.get(k) ?? contextResult(undefined, options));
}
