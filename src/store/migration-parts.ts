import { splitStatements } from './crm-check/migration-objects.js';
import type { ScriptRunner } from './db.js';

/**
 * A migration file in two parts. Above the marker line, statements that run in one transaction
 * (tables, columns, functions: all or nothing). Below it, index builds on the CRM's live tables, run
 * one by one outside any transaction, after the first part committed: a plain CREATE INDEX in the
 * migration's transaction would hold writes to `mensajes` for the whole build (and every lock the
 * transaction took before it, such as the ACCESS EXCLUSIVE of an ADD COLUMN on `conversaciones`,
 * which stops the CRM's own reads), while CREATE INDEX CONCURRENTLY lets the CRM and the old router
 * write on. Every statement below the marker must be idempotent (IF NOT EXISTS / IF EXISTS): a start
 * interrupted after the first part runs the whole file again.
 */
export const OUTSIDE_TRANSACTION_MARKER = '-- psi:outside-transaction';

export interface MigrationParts {
  transactional: string;
  /** One statement each, in file order. */
  outside: string[];
}

export function splitMigration(sql: string): MigrationParts {
  const lines = sql.split('\n');
  const at = lines.findIndex((l) => l.trim() === OUTSIDE_TRANSACTION_MARKER);
  if (at === -1) return { transactional: sql, outside: [] };
  return { transactional: lines.slice(0, at).join('\n'), outside: splitStatements(lines.slice(at + 1).join('\n')) };
}

const CONCURRENT_INDEX = /^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+IF\s+NOT\s+EXISTS\s+("?)([A-Za-z0-9_]+)\1\s/i;

/**
 * Runs one statement of the second part. On PostgreSQL: an index that an interrupted concurrent
 * build left behind is INVALID (unused by queries, still maintained on writes) and would satisfy
 * IF NOT EXISTS for ever, so it is dropped and built again. The embedded PGlite has no other
 * session to let through and runs the statement without CONCURRENTLY.
 */
export async function runOutsideTransaction(
  conn: ScriptRunner,
  engine: 'postgres' | 'pglite',
  statement: string,
): Promise<void> {
  if (engine === 'pglite') {
    await conn.exec(statement.replace(/\s+CONCURRENTLY\b/i, ''));
    return;
  }
  const index = CONCURRENT_INDEX.exec(statement)?.[2];
  if (index) {
    const invalid = await conn.query<{ invalid: boolean }>(
      `SELECT NOT i.indisvalid AS invalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relname = $1 AND c.relnamespace = 'public'::regnamespace`,
      [index],
    );
    if (invalid.rows[0]?.invalid) await conn.exec(`DROP INDEX CONCURRENTLY IF EXISTS "${index}"`);
  }
  await conn.exec(statement);
}
