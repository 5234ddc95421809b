import { createHash } from 'node:crypto';
import type { Queryable, ScriptRunner } from './db.js';
import { translatePgError } from './pg-errors.js';
import type { AppError } from '../errors.js';

/**
 * One statement for many items (issue 12: set-based processing) without a second copy of its SQL.
 * A PL/pgSQL function runs a per-item statement once per item of a jsonb array, each in a
 * subtransaction of its own, so every item keeps exactly the single statement's semantics (its own
 * snapshot of what the items before it wrote) and an error in one item (a CRM trigger, a unique
 * violation, a lost deadlock) undoes and fails that item alone. One round trip and one commit for N.
 *
 * The function's name carries a hash of its body: a router version with another statement creates
 * its own and never changes the one that older processes of a rolling reload still call.
 */
export interface BatchFunctionSpec {
  /** Name prefix (`router_contextos`); the body's hash is appended. */
  prefix: string;
  /** The statement up to its final SELECT (`WITH … ,x AS (…)`), with $n placeholders. */
  ctes: string;
  /** The final SELECT: one row per item. */
  select: string;
  /** Placeholders that differ per item, in the order of each item's array, with their SQL types. */
  perItem: { n: number; type: string }[];
  /** Placeholders shared by all items: the function's arguments after the items, in this order. */
  shared: { n: number; type: string }[];
}

export interface BatchFunction {
  name: string;
  create: string;
  /** `SELECT … FROM name($1 items, $2 …)` for `run`. */
  call: string;
}

export function batchFunction(spec: BatchFunctionSpec): BatchFunction {
  const rename = new Map<number, string>();
  spec.perItem.forEach((p, i) => rename.set(p.n, `p_${i}`));
  spec.shared.forEach((p, i) => rename.set(p.n, `$${i + 2}`));
  const sub = (sql: string) =>
    sql.replace(/\$(\d+)(?!\d)/g, (m, n: string) => {
      const to = rename.get(Number(n));
      if (to === undefined) throw new Error(`batch function ${spec.prefix}: placeholder ${m} has no source`);
      return to;
    });
  const declare = spec.perItem.map((p, i) => `p_${i} ${p.type};`).join(' ');
  const assign = spec.perItem.map((p, i) => `p_${i} := (v_item->>${i})::${p.type};`).join('\n      ');
  const body = `
DECLARE v_i int; v_item jsonb; ${declare}
BEGIN
  FOR v_i IN 0 .. jsonb_array_length($1) - 1 LOOP
    v_item := $1->v_i;
    BEGIN
      ${assign}
      RETURN QUERY ${sub(spec.ctes)}
        SELECT v_i, to_json(z), NULL::text, NULL::text FROM (${sub(spec.select)}) z;
    EXCEPTION WHEN OTHERS THEN
      -- QUERY_CANCELED (statement timeout) is not OTHERS: it fails the whole call, as it should.
      o_i := v_i; o_row := NULL; o_err_code := SQLSTATE; o_err_msg := SQLERRM;
      RETURN NEXT;
    END;
  END LOOP;
END`;
  const name = `${spec.prefix}_${createHash('sha256').update(body).digest('hex').slice(0, 12)}`;
  const args = ['jsonb', ...spec.shared.map((p) => p.type)].join(', ');
  return {
    name,
    create: `CREATE OR REPLACE FUNCTION ${name}(${args})
  RETURNS TABLE (o_i int, o_row json, o_err_code text, o_err_msg text)
  LANGUAGE plpgsql VOLATILE
  -- The generic plan is the one the single statement settles on too; without this PL/pgSQL would plan
  -- the big statement afresh for every item (custom plans, ~1.5 ms each).
  SET plan_cache_mode = force_generic_plan
  AS $router_batch$${body}$router_batch$`,
    call: `SELECT * FROM ${name}(${['$1::jsonb', ...spec.shared.map((_, i) => `$${i + 2}`)].join(', ')})`,
  };
}

/** Creates the function when missing (run by migrate(), under its advisory lock). */
export async function ensureBatchFunction(conn: ScriptRunner, fn: BatchFunction): Promise<boolean> {
  const found = await conn.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_proc WHERE proname = $1', [fn.name]);
  if ((found.rows[0]?.n ?? 0) > 0) return false;
  await conn.exec(fn.create);
  return true;
}

interface BatchRow {
  o_i: number;
  o_row: unknown;
  o_err_code: string | null;
  o_err_msg: string | null;
}

/**
 * Runs the function over `items` (each the array of its per-item values) and answers per item, in
 * order: its row, or the AppError of its statement. A failure raised after the item's row was produced
 * (a deferred write of its statement) comes as a second row for it: the error wins, since its
 * subtransaction was undone.
 */
export async function runBatchFunction(
  db: Queryable,
  fn: BatchFunction,
  items: readonly unknown[][],
  shared: readonly unknown[],
): Promise<(unknown | AppError)[]> {
  const res = await db.query<BatchRow>(fn.call, [JSON.stringify(items), ...shared]);
  const out = new Map<number, unknown>();
  for (const row of res.rows) {
    if (row.o_err_code !== null) {
      out.set(row.o_i, translatePgError({ code: row.o_err_code, message: row.o_err_msg ?? 'batch item failed' }));
    } else if (!out.has(row.o_i)) {
      out.set(row.o_i, row.o_row);
    }
  }
  return items.map((_, i) => out.get(i));
}
