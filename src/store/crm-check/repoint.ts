import { isAppError } from '../../errors.js';
import type { Queryable } from '../db.js';
import { typeFamily } from './expected-columns.js';
import { quoteIdent, referencingForeignKeys, type ColumnRef, type Schema } from './introspect.js';

/** A column holding ids of the table being merged; `asText` when it is text (audit_log.registro_id). */
export interface Reference extends ColumnRef {
  asText: boolean;
}

export interface RepointResult {
  /** Keys (id, or ctid for a table without id) of the rows now pointing at the survivor. */
  moved: string[];
  /** Rows left pointing at the loser because the survivor already had their twin under a unique key. */
  skipped: { key: string; row: Record<string, unknown> }[];
}

/**
 * Every column that can hold an id of `target`: single-column foreign keys to its `id` found in
 * pg_constraint, plus columns named `namedColumn` anywhere in `public` (the CRM links much by
 * convention, without FKs: menu_sesiones.conversacion_id, tickets.contacto_id …), plus `extra`.
 */
export async function findReferences(
  q: Queryable,
  schema: Schema,
  target: string,
  namedColumn: string,
  extra: ColumnRef[] = [],
): Promise<Reference[]> {
  const refs = new Map<string, ColumnRef>();
  for (const fk of await referencingForeignKeys(q, target)) refs.set(`${fk.table}.${fk.column}`, fk);
  for (const [table, columns] of schema.columns) {
    if (table !== target && columns.has(namedColumn))
      refs.set(`${table}.${namedColumn}`, { table, column: namedColumn });
  }
  for (const e of extra) if (schema.has(e.table, e.column)) refs.set(`${e.table}.${e.column}`, e);
  const out: Reference[] = [];
  for (const ref of refs.values()) {
    const family = typeFamily(schema.column(ref.table, ref.column)?.type ?? '');
    // Only columns that can hold a uuid; an integer "conversacion_id" elsewhere is something else.
    if (family === 'uuid' || family === 'text') out.push({ ...ref, asText: family === 'text' });
  }
  return out.sort((a, b) => `${a.table}.${a.column}`.localeCompare(`${b.table}.${b.column}`));
}

const isDuplicate = (err: unknown): boolean => isAppError(err) && err.code === 'DB_DUPLICATE';

/**
 * Moves every row of `ref` from `fromId` to `toId`. One UPDATE when it can; when a unique key
 * refuses (the survivor already has that label, that reaction…), row by row under savepoints, and
 * the refused rows are returned whole for the caller to record. Must run inside a transaction.
 */
export async function repoint(
  q: Queryable,
  schema: Schema,
  ref: Reference,
  fromId: string,
  toId: string,
): Promise<RepointResult> {
  const table = quoteIdent(ref.table);
  const column = quoteIdent(ref.column);
  const key = schema.has(ref.table, 'id') ? 'id' : 'ctid';
  const match = ref.asText ? `${column}::text = $1` : `${column} = $1`;
  const byKey = key === 'id' ? 'id::text = $1' : 'ctid = $1::tid';

  await q.query('SAVEPOINT router_repunteo');
  try {
    const all = await q.query<{ k: string }>(
      `UPDATE ${table} SET ${column} = $2 WHERE ${match} RETURNING ${key}::text AS k`,
      [fromId, toId],
    );
    await q.query('RELEASE SAVEPOINT router_repunteo');
    return { moved: all.rows.map((r) => r.k), skipped: [] };
  } catch (err) {
    await q.query('ROLLBACK TO SAVEPOINT router_repunteo');
    await q.query('RELEASE SAVEPOINT router_repunteo');
    if (!isDuplicate(err)) throw err;
  }

  const result: RepointResult = { moved: [], skipped: [] };
  const rows = await q.query<{ k: string }>(`SELECT ${key}::text AS k FROM ${table} WHERE ${match} ORDER BY 1`, [
    fromId,
  ]);
  for (const { k } of rows.rows) {
    await q.query('SAVEPOINT router_repunteo');
    try {
      await q.query(`UPDATE ${table} SET ${column} = $2 WHERE ${byKey}`, [k, toId]);
      await q.query('RELEASE SAVEPOINT router_repunteo');
      result.moved.push(k);
    } catch (err) {
      await q.query('ROLLBACK TO SAVEPOINT router_repunteo');
      await q.query('RELEASE SAVEPOINT router_repunteo');
      if (!isDuplicate(err)) throw err;
      const row = await q.query<{ fila: Record<string, unknown> }>(
        `SELECT to_jsonb(x) AS fila FROM ${table} x WHERE x.${byKey}`,
        [k],
      );
      result.skipped.push({ key: k, row: row.rows[0]?.fila ?? {} });
    }
  }
  return result;
}

/** Deletes rows by the key repoint() returned (used for refused twins of a row about to go). */
export async function deleteByKey(q: Queryable, schema: Schema, table: string, key: string): Promise<void> {
  const byKey = schema.has(table, 'id') ? 'id::text = $1' : 'ctid = $1::tid';
  await q.query(`DELETE FROM ${quoteIdent(table)} WHERE ${byKey}`, [key]);
}
