import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Db, QueryResult, ScriptRunner } from './db.js';
import { NoSpaceWatch } from './no-space-watch.js';
import { translatePgError } from './pg-errors.js';

export interface PgDbOptions {
  connectionString: string;
  max: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  applicationName?: string;
  /**
   * Name every parameterised statement after its text, so each connection parses and plans it once.
   * The router's statements are few and large (the context query plans in ~2.5 ms and runs in ~2 ms):
   * re-planning them per message was the biggest cost in the benchmark. Turn off for a pooler that
   * cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
   */
  prepared?: boolean;
}

/** How often a process waiting for the migration lock asks again. */
const ADVISORY_LOCK_POLL_MS = 100;

const statementNames = new Map<string, string>();
/** Stable name per SQL text (the same text always gets the same name, in every connection). */
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `psi_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/** PostgreSQL (or Supabase's pooler) through a `pg` Pool. */
export function createPgDb(options: PgDbOptions, log: Logger): Db {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName ?? 'psi-router',
    // Keep-alive so a half-open connection (NAT, pooler restart) is noticed instead of hanging.
    keepAlive: true,
  });
  // An idle client losing its connection emits here; without a listener the process would crash.
  pool.on('error', (err) =>
    log.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'idle database connection lost'),
  );

  let statements = 0;
  // The server's disk is out of sight: a refusal for lack of space is the only sign of it.
  const noSpace = new NoSpaceWatch(30_000);
  const fail = (err: unknown) => {
    const translated = translatePgError(err);
    noSpace.note(translated);
    return translated;
  };

  const run = async <T>(
    client: pg.Pool | pg.PoolClient,
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<T>> => {
    statements += 1;
    try {
      const res =
        options.prepared !== false && params !== undefined && params.length > 0
          ? await client.query({ name: statementName(sql), text: sql, values: params as unknown[] })
          : await client.query(sql, params as unknown[] | undefined);
      return { rows: res.rows as T[], rowCount: res.rowCount ?? 0 };
    } catch (err) {
      throw fail(err);
    }
  };

  const connect = async (): Promise<pg.PoolClient> => {
    try {
      return await pool.connect();
    } catch (err) {
      throw fail(err);
    }
  };

  const onClient = (client: pg.PoolClient): ScriptRunner => ({
    query: (sql, params) => run(client, sql, params),
    // Without parameters pg uses the simple protocol, which accepts a whole script.
    exec: async (sql) => {
      await run(client, sql);
    },
  });

  return {
    engine: 'postgres',
    statementCount: () => statements,
    query: (sql, params) => run(pool, sql, params),
    async transaction(fn) {
      const client = await connect();
      let broken = false;
      try {
        await run(client, 'BEGIN');
        const result = await fn(onClient(client));
        await run(client, 'COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // the connection is gone: do not return it to the pool
        }
        throw fail(err);
      } finally {
        client.release(broken);
      }
    },
    async withAdvisoryLock(key, fn) {
      const client = await connect();
      try {
        // Polled, not waited for: a session blocked inside pg_advisory_lock keeps its transaction
        // open, and a migration's CREATE INDEX CONCURRENTLY (migration-parts.ts) waits for every
        // older transaction to end — the holder and the waiters would deadlock.
        while (!(await run<{ ok: boolean }>(client, 'SELECT pg_try_advisory_lock($1) AS ok', [key])).rows[0]?.ok)
          await sleep(ADVISORY_LOCK_POLL_MS);
        try {
          return await fn(onClient(client));
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => undefined);
        }
      } finally {
        client.release();
      }
    },
    async ping() {
      await run(pool, 'SELECT 1');
      await noSpace.check();
    },
    async close() {
      await pool.end();
    },
  };
}
