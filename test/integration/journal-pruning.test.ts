import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JournalPruner } from '../../src/conversations/journal-pruner.js';
import { createPgDb } from '../../src/store/pg-db.js';
import { resetDatabase, truncateData, withClient } from '../helpers/reset-db.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import { TEST_DATABASE_URL, testConfig } from '../helpers/test-config.js';

const RETENTION_DAYS = 7;
const log = pino({ level: 'silent' });

/** `n` journal rows in `estado`, received `daysAgo` days ago. */
const seed = (estado: string, daysAgo: number, n: number, tag: string) =>
  withClient((c) =>
    c.query(
      `INSERT INTO router_eventos (clave, tipo, conv_key, wa_ts, estado, payload, recibido_at, procesado_at)
     SELECT $1 || g, CASE WHEN $2 = 'huerfano' THEN 'status' ELSE 'message' END, 'pnid:549' || g, now(), $2, '{}'::jsonb,
            now() - $3 * interval '1 day', CASE WHEN $2 IN ('hecho', 'muerto') THEN now() END
       FROM generate_series(1, $4) g`,
      [`${tag}:`, estado, daysAgo, n],
    ),
  );
const countsByTag = () =>
  withClient(async (c) =>
    Object.fromEntries(
      (
        await c.query(`SELECT split_part(clave, ':', 1) AS tag, count(*)::int AS n FROM router_eventos GROUP BY 1`)
      ).rows.map((r) => [r.tag, r.n]),
    ),
  );

describe('journal pruning', () => {
  let router: RunningRouter;

  beforeAll(async () => {
    await resetDatabase();
    router = await startRouter(testConfig({ JOURNAL_RETENTION_DAYS: String(RETENTION_DAYS) }), {
      sender: false,
      sweeper: false,
    });
  });
  afterAll(async () => {
    await router.stop();
  });
  beforeEach(async () => {
    await truncateData();
  });

  it('when the router prunes, then finished rows past JOURNAL_RETENTION_DAYS go and pending, dead and recent rows stay', async () => {
    await seed('hecho', RETENTION_DAYS + 1, 2_500, 'old_done');
    await seed('huerfano', RETENTION_DAYS + 3, 20, 'old_orphan');
    await seed('pendiente', RETENTION_DAYS + 30, 15, 'old_pending');
    await seed('muerto', RETENTION_DAYS + 30, 12, 'old_dead');
    await seed('hecho', RETENTION_DAYS - 1, 30, 'recent_done');

    // The pruner every process runs, with the retention from the configuration.
    const deleted = await router.runtime.pruner.runOnce();

    expect(deleted).toBe(2_520);
    expect(await countsByTag()).toEqual({ old_pending: 15, old_dead: 12, recent_done: 30 });
  });

  it('when three processes prune the same backlog at once in small batches, then each row is deleted once and nothing waits or fails', async () => {
    await seed('hecho', RETENTION_DAYS + 2, 3_000, 'old_done');
    await seed('pendiente', RETENTION_DAYS + 2, 40, 'old_pending');
    await seed('muerto', RETENTION_DAYS + 2, 40, 'old_dead');
    const dbs = [1, 2, 3].map(() =>
      createPgDb(
        { connectionString: TEST_DATABASE_URL, max: 2, statementTimeoutMs: 10_000, connectTimeoutMs: 3_000 },
        log,
      ),
    );
    try {
      const pruners = dbs.map(
        (db) => new JournalPruner(db, { retentionDays: RETENTION_DAYS, batchSize: 100, batchPauseMs: 0 }, log),
      );
      const deleted = await Promise.all(pruners.map((p) => p.runOnce()));
      expect(deleted.reduce((a, b) => a + b, 0)).toBe(3_000);
      expect(await countsByTag()).toEqual({ old_pending: 40, old_dead: 40 });
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });

  it('when started, then it prunes on its own timer, pass after pass, until stopped', async () => {
    const pruner = new JournalPruner(
      router.runtime.db,
      { retentionDays: RETENTION_DAYS, firstDelayMs: 0, intervalMs: 20 },
      log,
    );
    pruner.start();
    try {
      await seed('hecho', RETENTION_DAYS + 2, 50, 'first');
      await expect.poll(countsByTag, { timeout: 5_000, interval: 20 }).toEqual({});
      // A later pass takes what finished since.
      await seed('hecho', RETENTION_DAYS + 2, 50, 'second');
      await expect.poll(countsByTag, { timeout: 5_000, interval: 20 }).toEqual({});
    } finally {
      await pruner.stop();
    }
  });

  it('when a pass is asked for while one runs, then they are the same pass', async () => {
    await seed('hecho', RETENTION_DAYS + 2, 10, 'old_done');
    const first = router.runtime.pruner.runOnce();
    const second = router.runtime.pruner.runOnce();
    expect(second).toBe(first);
    expect(await first).toBe(10);
  });

  it('when a batch comes back full, then the pass goes on until one is short', async () => {
    await seed('hecho', RETENTION_DAYS + 2, 250, 'old_done');
    const statements = router.runtime.db.statementCount();
    const pruner = new JournalPruner(
      router.runtime.db,
      { retentionDays: RETENTION_DAYS, batchSize: 100, batchPauseMs: 0 },
      log,
    );
    expect(await pruner.runOnce()).toBe(250);
    // 100 + 100 + 50: three statements, none larger than a batch.
    expect(router.runtime.db.statementCount() - statements).toBe(3);
  });
});
