import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from './db.js';
import { createPgDb } from './pg-db.js';

/** DATABASE_URL → PostgreSQL pool; unset → embedded PGlite under DATA_DIR/pglite. */
export async function openDb(config: Config, log: Logger): Promise<Db> {
  if (config.DATABASE_URL) {
    return createPgDb(
      {
        connectionString: config.DATABASE_URL,
        max: config.DB_POOL_MAX,
        statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
        connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
        prepared: config.DB_PREPARED_STATEMENTS,
      },
      log.child({ module: 'db' }),
    );
  }
  // Loaded only for the embedded default: a PostgreSQL deployment never pays for PGlite's module.
  const { createPgliteDb } = await import('./pglite-db.js');
  return createPgliteDb(path.resolve(config.DATA_DIR, 'pglite'));
}

/** Where the data lives, for the startup banner (never the password). */
export function describeStore(config: Config): string {
  if (!config.DATABASE_URL) return `embedded PGlite at ${path.resolve(config.DATA_DIR, 'pglite')}`;
  try {
    const url = new URL(config.DATABASE_URL);
    return `postgres ${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'postgres';
  }
}
