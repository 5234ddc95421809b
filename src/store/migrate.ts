import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import type { Blocker } from './crm-check/blocking-checks.js';
import { additions } from './crm-check/check.js';
import { loadSchema } from './crm-check/introspect.js';
import { migrationObjects } from './crm-check/migration-objects.js';
import { ensureBatchFunction } from './batch-function.js';
import { completionBatch } from './completion-batch.js';
import { CONTEXT_BATCH } from './context-batch.js';
import { enforceDataGuarantees } from './data-gate.js';
import { runOutsideTransaction, splitMigration } from './migration-parts.js';
import { readSchemaProfile } from './schema-profile.js';
import { STATUS_BATCH } from './status-repository.js';
import type { Db, ScriptRunner } from './db.js';

/**
 * Same key in every process, so concurrent starts apply migrations one after the other; the CRM
 * duplicate fix (crm-check/fix-duplicates.ts) takes it too, so it never runs beside a migration.
 */
export const MIGRATION_LOCK_KEY = 7_261_001;

export const MIGRATIONS_DIR = new URL('../../migrations/', import.meta.url);
export const SEED_FILE = new URL('../../supabase/seed.sql', import.meta.url);
export const SEED_TEXTS_FILE = new URL('../../supabase/seed-texts.sql', import.meta.url);

/** psi-router 0.1 created its own, CRM-incompatible tables under this name (CHECKs, phone-id lines). */
const PRE_CRM_MIGRATION = '0001-crm-tables.sql';

export interface MigrationResult {
  /** Files applied by this run. */
  ran: string[];
  /** Data that still blocks a guarantee (see data-gate.ts); `npm start` refuses while any is left. */
  blockers: Blocker[];
}

export async function migrationFiles(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{4}-[a-z0-9-]+\.sql$/.test(f)).sort();
}

/**
 * Applies `migrations/NNNN-*.sql` in order, each once, recorded in `router_migraciones`. Runs under
 * a PostgreSQL advisory lock so several PM2 processes starting together do not race; each file runs
 * in its own transaction so a failure leaves nothing half-applied, except the index builds on the
 * CRM's live tables below a file's `-- psi:outside-transaction` line (migration-parts.ts), which run
 * concurrently after it. Every migration is additive and
 * idempotent, written to run on the CRM's live database as well as on an empty one.
 * Then, when the menu tables are empty, loads `supabase/seed.sql` (the default menu) — never over
 * menus the CRM has edited — adds missing texts/areas from `supabase/seed-texts.sql`, and creates
 * what the data allows (data-gate.ts).
 */
export async function migrate(db: Db, log: Logger, options: { seed: boolean }): Promise<MigrationResult> {
  const files = await migrationFiles();
  return db.withAdvisoryLock(MIGRATION_LOCK_KEY, async (conn) => {
    await conn.exec(`CREATE TABLE IF NOT EXISTS router_migraciones (
      nombre text PRIMARY KEY, checksum text NOT NULL, aplicada_at timestamptz NOT NULL DEFAULT now())`);
    const done = await conn.query<{ nombre: string; checksum: string }>(
      'SELECT nombre, checksum FROM router_migraciones',
    );
    const applied = new Map(done.rows.map((r) => [r.nombre, r.checksum]));
    if (applied.has(PRE_CRM_MIGRATION)) {
      throw new AppError(
        'MIGRATION_FAILED',
        "this database was created by psi-router 0.1, whose tables are not the CRM's; start from an empty database (embedded default: remove DATA_DIR) or the CRM's own",
        { details: { migration: PRE_CRM_MIGRATION } },
      );
    }
    const ran: string[] = [];
    for (const file of files) {
      const sql = await readFile(new URL(file, MIGRATIONS_DIR), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const previous = applied.get(file);
      if (previous !== undefined) {
        if (previous !== checksum) log.warn({ migration: file }, 'applied migration was edited afterwards; not re-run');
        continue;
      }
      // What this file will add to this database (on the CRM's, most of it exists): logged change by change.
      const adds = additions(migrationObjects(sql, file), await loadSchema(conn));
      const parts = splitMigration(sql);
      const record = `INSERT INTO router_migraciones (nombre, checksum) VALUES ('${file}', '${checksum}')`;
      try {
        if (parts.outside.length === 0) {
          await conn.exec(`BEGIN;\n${sql}\n;${record};\nCOMMIT;`);
        } else {
          // Recorded only once the index builds are done too: an interrupted start redoes the file.
          await conn.exec(`BEGIN;\n${parts.transactional}\n;COMMIT;`);
          for (const statement of parts.outside) await runOutsideTransaction(conn, db.engine, statement);
          await conn.exec(record);
        }
      } catch (err) {
        await conn.exec('ROLLBACK').catch(() => undefined);
        throw new AppError('MIGRATION_FAILED', `migration ${file} failed: ${(err as Error).message}`, {
          cause: err,
          details: { migration: file },
        });
      }
      for (const t of adds.tables) log.info({ migration: file, table: t.table }, 'table created');
      for (const c of adds.columns) log.info({ migration: file, table: c.table, column: c.column }, 'column added');
      for (const i of adds.indexes) log.info({ migration: file, table: i.table, index: i.name }, 'index created');
      log.info(
        { migration: file, tables: adds.tables.length, columns: adds.columns.length, indexes: adds.indexes.length },
        'migration applied',
      );
      ran.push(file);
    }
    // Derived from the TypeScript statements (and the live schema), so created by version, not by a file.
    for (const fn of [CONTEXT_BATCH, STATUS_BATCH, completionBatch(await readSchemaProfile(conn))]) {
      if (await ensureBatchFunction(conn, fn)) log.info({ function: fn.name }, 'batch function created');
    }
    if (options.seed) await seed(conn, log);
    const blockers = await enforceDataGuarantees(conn);
    for (const b of blockers) log.error({ check: b.code }, `data blocks a guarantee: ${b.message}`);
    return { ran, blockers };
  });
}

async function seed(conn: ScriptRunner, log: Logger): Promise<void> {
  const menus = await conn.query<{ n: number }>('SELECT count(*)::int AS n FROM router_menu_config');
  if ((menus.rows[0]?.n ?? 0) === 0) {
    try {
      await conn.exec(`BEGIN;\n${await readFile(SEED_FILE, 'utf8')}\n;COMMIT;`);
      log.info('default menu seeded');
    } catch (err) {
      // A live table shaped differently (no id default…) keeps the router running without a menu.
      await conn.exec('ROLLBACK').catch(() => undefined);
      log.warn({ err: { message: (err as Error).message } }, 'default menu could not be seeded; create it in the CRM');
    }
  }
  // Texts and areas: only missing keys are added, so CRM edits survive every start.
  await conn.exec(`BEGIN;\n${await readFile(SEED_TEXTS_FILE, 'utf8')}\n;COMMIT;`);
}

/** For `npm start`: refuse, naming the check, while the data blocks a guarantee. */
export function assertNoBlockers(result: MigrationResult): void {
  if (result.blockers.length === 0) return;
  const list = result.blockers.map((b) => `${b.code}: ${b.message}`).join('; ');
  throw new AppError(
    'DATA_BLOCKED',
    `the database's data blocks a guarantee (${list}); run \`npm run migrate -- --check\`, then \`npm run migrate -- --fix\``,
    {
      details: { checks: result.blockers.map((b) => b.code) },
    },
  );
}
