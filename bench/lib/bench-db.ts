import pg from 'pg';
import pino from 'pino';
import { createPgDb } from '../../src/store/pg-db.js';
import { migrate } from '../../src/store/migrate.js';

export const BENCH_DATABASE = process.env.BENCH_DATABASE ?? 'psi_bench';
export const BENCH_ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const benchDatabaseUrl = () => BENCH_ADMIN_URL.replace(/\/[^/]*$/, `/${BENCH_DATABASE}`);

/** A database of its own for the benchmark, recreated empty and migrated for every run. */
export async function freshBenchDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: BENCH_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${BENCH_DATABASE}`);
  } finally {
    await admin.end();
  }
  const url = benchDatabaseUrl();
  const log = pino({ level: 'silent' });
  const db = createPgDb({ connectionString: url, max: 1, statementTimeoutMs: 60_000, connectTimeoutMs: 5_000 }, log);
  try {
    await migrate(db, log, { seed: true });
  } finally {
    await db.close();
  }
  return url;
}

export async function withBenchClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: benchDatabaseUrl() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
