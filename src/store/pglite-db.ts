import { mkdirSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import type { Db, QueryResult, Queryable } from './db.js';
import { NoSpaceWatch } from './no-space-watch.js';
import { translatePgError } from './pg-errors.js';

/**
 * The embedded default: PostgreSQL compiled to WASM, persisted under DATA_DIR, so that
 * `npm install && npm start` works on a bare machine with the very same SQL and migrations.
 * One connection, one process: PGlite runs statements one at a time, which also makes its
 * transactions exclusive. Production and multi-process setups use DATABASE_URL.
 */
export async function createPgliteDb(dataDir: string | null): Promise<Db> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const pglite = dataDir ? new PGlite(dataDir) : new PGlite();
  await pglite.waitReady;
  let statements = 0;
  // The data directory's free space is read at each ping; a refusal also counts for a few seconds.
  const noSpace = new NoSpaceWatch(5_000, dataDir);
  const fail = (err: unknown) => {
    const translated = translatePgError(err);
    noSpace.note(translated);
    return translated;
  };

  const run = async <T>(
    target: Pick<PGlite, 'query'>,
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<T>> => {
    statements += 1;
    // PGlite runs each statement synchronously in this thread and settles it without any I/O, so a
    // chain of statements (a processing backlog) would never let a socket callback run: /health
    // waited over 800 ms behind 300 messages. A macrotask turn before each statement lets them in.
    await nextTurn();
    try {
      const res = await target.query<T>(sql, params as unknown[] | undefined);
      return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
    } catch (err) {
      throw fail(err);
    }
  };

  return {
    engine: 'pglite',
    statementCount: () => statements,
    query: (sql, params) => run(pglite, sql, params),
    async transaction(fn) {
      statements += 2; // BEGIN + COMMIT, as on a server
      try {
        return await pglite.transaction(async (tx) =>
          fn({ query: (sql, params) => run(tx, sql, params) } satisfies Queryable),
        );
      } catch (err) {
        throw fail(err);
      }
    },
    async withAdvisoryLock(_key, fn) {
      // One process owns an embedded data directory, so there is nobody to race with.
      return fn({
        query: (sql, params) => run(pglite, sql, params),
        exec: async (sql) => {
          statements += 1;
          try {
            await pglite.exec(sql);
          } catch (err) {
            throw fail(err);
          }
        },
      });
    },
    async ping() {
      await run(pglite, 'SELECT 1');
      await noSpace.check();
    },
    async close() {
      await pglite.close();
    },
  };
}
