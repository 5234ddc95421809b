import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import type { Db } from './db.js';

/**
 * Same key in every process, so concurrent starts apply migrations one after the other; the CRM
 * duplicate fix (crm-check/fix-duplicates.ts) takes it too, so it never runs beside a migration.
 */
export const MIGRATION_LOCK_KEY = 7_261_001;

export const MIGRATIONS_DIR = new URL('../../migrations/', import.meta.url);
export const SEED_FILE = new URL('../../supabase/seed.sql', import.meta.url);
export const SEED_TEXTS_FILE = new URL('../../supabase/seed-texts.sql', import.meta.url);

/**
 * Applies `migrations/NNNN-*.sql` in order, each once, recorded in `router_migraciones`. Runs under
 * a PostgreSQL advisory lock so several PM2 processes starting together do not race; each file runs
 * in its own transaction so a failure leaves nothing half-applied. Then, when the menu tables are
 * empty, loads `supabase/seed.sql` (the default menu) — never over menus the CRM has edited — and
 * adds missing texts/areas from `supabase/seed-texts.sql`.
 */
export async function migrate(db: Db, log: Logger, options: { seed: boolean }): Promise<string[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{4}-[a-z0-9-]+\.sql$/.test(f)).sort();
  return db.withAdvisoryLock(MIGRATION_LOCK_KEY, async (conn) => {
    await conn.exec(`CREATE TABLE IF NOT EXISTS router_migraciones (
      nombre text PRIMARY KEY, checksum text NOT NULL, aplicada_at timestamptz NOT NULL DEFAULT now())`);
    const done = await conn.query<{ nombre: string; checksum: string }>('SELECT nombre, checksum FROM router_migraciones');
    const applied = new Map(done.rows.map((r) => [r.nombre, r.checksum]));
    const ran: string[] = [];
    for (const file of files) {
      const sql = await readFile(new URL(file, MIGRATIONS_DIR), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const previous = applied.get(file);
      if (previous !== undefined) {
        if (previous !== checksum) log.warn({ migration: file }, 'applied migration was edited afterwards; not re-run');
        continue;
      }
      try {
        await conn.exec(`BEGIN;\n${sql}\n;INSERT INTO router_migraciones (nombre, checksum) VALUES ('${file}', '${checksum}');\nCOMMIT;`);
      } catch (err) {
        await conn.exec('ROLLBACK').catch(() => undefined);
        throw new AppError('MIGRATION_FAILED', `migration ${file} failed`, { cause: err, details: { migration: file } });
      }
      log.info({ migration: file }, 'migration applied');
      ran.push(file);
    }
    if (options.seed) {
      const menus = await conn.query<{ n: number }>('SELECT count(*)::int AS n FROM router_menu_config');
      if ((menus.rows[0]?.n ?? 0) === 0) {
        await conn.exec(`BEGIN;\n${await readFile(SEED_FILE, 'utf8')}\n;COMMIT;`);
        log.info('default menu seeded');
      }
      // Texts and areas: only missing keys are added, so CRM edits survive every start.
      await conn.exec(`BEGIN;\n${await readFile(SEED_TEXTS_FILE, 'utf8')}\n;COMMIT;`);
    }
    return ran;
  });
}
