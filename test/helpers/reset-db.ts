import pg from 'pg';
import { TEST_DATABASE_URL } from './test-config.js';

/**
 * Empties the test database's public schema so migrations run from zero, as on a fresh Supabase
 * project. Called once per test file; tests inside a file use truncateData between cases.
 */
export async function resetDatabase(url = TEST_DATABASE_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;');
  } finally {
    await client.end();
  }
}

export const DATA_TABLES = [
  'router_outbox',
  'mensaje_reacciones',
  'mensajes',
  'derivaciones',
  'tickets',
  'audit_log',
  'conversaciones',
  'contactos',
  'router_eventos',
  'router_locks',
  'router_lineas',
];

/**
 * Removes conversation data but keeps schema and menus. A running router's sweeper and sender touch
 * these tables concurrently, so TRUNCATE can lose a deadlock (40P01): then it simply runs again.
 */
export async function truncateData(url = TEST_DATABASE_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`TRUNCATE ${DATA_TABLES.join(', ')} RESTART IDENTITY CASCADE`);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== '40P01' || attempt >= 5) throw err;
      }
    }
  } finally {
    await client.end();
  }
}

/** A plain client for assertions (the test's own eyes on the database, not the router's pool). */
export async function withClient<T>(fn: (client: pg.Client) => Promise<T>, url = TEST_DATABASE_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Applies the router's migrations (and seed) to the test database, as a router start would. */
export async function migrateTestDatabase(url = TEST_DATABASE_URL): Promise<void> {
  const { default: pino } = await import('pino');
  const { createPgDb } = await import('../../src/store/pg-db.js');
  const { migrate } = await import('../../src/store/migrate.js');
  const log = pino({ level: 'silent' });
  const db = createPgDb({ connectionString: url, max: 1, statementTimeoutMs: 30_000, connectTimeoutMs: 5_000 }, log);
  try {
    await migrate(db, log, { seed: true });
  } finally {
    await db.close();
  }
}
