import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createPgDb } from '../../src/store/pg-db.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { TEST_DATABASE_URL } from '../helpers/test-config.js';

const log = pino({ level: 'silent' });
const FILE = '0120-flows.sql';
const INDEX = 'mensajes_agente_reciente';

const indexState = () =>
  withClient(
    async (c) =>
      (
        await c.query(
          `SELECT i.indisvalid AS valid, i.indisunique AS unique FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid WHERE x.relname = $1`,
          [INDEX],
        )
      ).rows,
  );
const recorded = () =>
  withClient(
    async (c) =>
      (await c.query(`SELECT count(*)::int AS n FROM router_migraciones WHERE nombre = $1`, [FILE])).rows[0].n,
  );

/** A live CRM database where 0120 has not run yet: its index on mensajes is still to be built. */
async function before0120(): Promise<void> {
  await withClient(async (c) => {
    await c.query(`DELETE FROM router_migraciones WHERE nombre = $1`, [FILE]);
    await c.query(`DROP INDEX IF EXISTS ${INDEX}`);
  });
}

const insertMessage = (c: pg.Client | pg.PoolClient, text: string) =>
  c.query(`INSERT INTO mensajes (mensaje, direccion, remitente_tipo) VALUES ($1, 'entrante', 'contacto')`, [text]);

/**
 * A migration's index builds on the CRM's tables run below the file's `-- psi:outside-transaction`
 * line, CONCURRENTLY and after its transaction: the CRM (and the old router) keep writing to
 * `mensajes` while the router's first start builds them.
 */
describe('migrations: index builds on the CRM’s live tables', () => {
  let db: Db;

  beforeAll(async () => {
    await resetDatabase();
    db = createPgDb(
      { connectionString: TEST_DATABASE_URL, max: 2, statementTimeoutMs: 30_000, connectTimeoutMs: 2_000 },
      log,
    );
    await migrate(db, log, { seed: false });
  });
  afterAll(async () => {
    await db.close();
  });

  it('when the index on mensajes is being built while the CRM has a write open, then another CRM write to mensajes is not held behind the build', async () => {
    await before0120();
    const crm = new pg.Client({ connectionString: TEST_DATABASE_URL });
    const other = new pg.Client({ connectionString: TEST_DATABASE_URL });
    const watcher = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await Promise.all([crm.connect(), other.connect(), watcher.connect()]);
    try {
      // An agent's send in flight: its transaction holds mensajes until it commits.
      await crm.query('BEGIN');
      await insertMessage(crm, 'en curso');
      const migrating = migrate(db, log, { seed: false });
      // The build has started and waits for that transaction (a plain CREATE INDEX would now sit in
      // mensajes' lock queue, and every later write with it).
      await expect
        .poll(
          async () =>
            (
              await watcher.query(
                `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%${INDEX}%' AND wait_event_type IS NOT NULL`,
              )
            ).rows[0].n,
          { timeout: 10_000, interval: 20 },
        )
        .toBe(1);
      await other.query(`SET statement_timeout = 3000`);
      await insertMessage(other, 'otra escritura');
      expect(await recorded()).toBe(0);

      await crm.query('COMMIT');
      expect((await migrating).ran).toEqual([FILE]);
      expect(await indexState()).toEqual([{ valid: true, unique: false }]);
      expect(await recorded()).toBe(1);
    } finally {
      await crm.query('ROLLBACK').catch(() => undefined);
      await Promise.all([crm.end(), other.end(), watcher.end()]);
    }
  });

  it('when an interrupted build left the index INVALID, then the next start drops it and builds it again', async () => {
    await before0120();
    // A concurrent build that failed half-way leaves an INVALID index under the name: here a unique
    // build over duplicate rows fails the same way.
    await withClient(async (c) => {
      await insertMessage(c, 'duplicado');
      await insertMessage(c, 'duplicado');
      await c
        .query(`CREATE UNIQUE INDEX CONCURRENTLY ${INDEX} ON mensajes (mensaje)`)
        .then(() => expect.fail('the unique build over duplicates should fail'))
        .catch((err: { code?: string }) => expect(err.code).toBe('23505'));
    });
    expect(await indexState()).toEqual([{ valid: false, unique: true }]);

    expect((await migrate(db, log, { seed: false })).ran).toEqual([FILE]);
    expect(await indexState()).toEqual([{ valid: true, unique: false }]);
  });
});
