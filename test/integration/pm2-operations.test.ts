import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PM2_ACTIONS } from '../../src/observability/pm2-actions.js';
import { PM2_METRIC_NAMES } from '../../src/observability/pm2-probes.js';
import { customersWriting } from '../helpers/load.js';
import { startPm2Router, type Pm2Rig } from '../helpers/pm2.js';
import { freshRedisDb } from '../helpers/redis.js';
import { withClient } from '../helpers/reset-db.js';

type Metric = { value: number | string; unit?: string };
type App = { name: string; pm_id: number; pm2_env: { status: string; axm_monitor?: Record<string, Metric> } };

/**
 * The operator's view under the real PM2 (own PM2_HOME, so no other daemon is touched): the custom
 * metrics PM2 shows in `pm2 monit` / `pm2 describe`, read back from `pm2 jlist`, and every
 * `pm2 trigger` action, answered by the process and audited in its log. Queue mode, so that both
 * kinds of process report: the router (webhook → Redis) and a worker (Redis → journal → replies).
 */
describe('PM2: custom metrics and actions', () => {
  let rig: Pm2Rig;
  let port: number;

  const pm2 = (...args: string[]) => rig.pm2(...args);
  const metrics = async (name = 'psi-router'): Promise<Record<string, Metric>> => {
    const { stdout } = await pm2('jlist');
    const app = (JSON.parse(stdout) as App[]).find((a) => a.name === name);
    return app?.pm2_env.axm_monitor ?? {};
  };
  const metric = async (name: string, app = 'psi-router') => (await metrics(app))[name]?.value;
  /** `pm2 trigger` prints `[name:id:namespace]=<json>` per process that answered. */
  const trigger = async (action: string, params: string[] = [], app = 'psi-router') => {
    const { stdout } = await pm2('trigger', app, action, ...params);
    const line = stdout.split('\n').find((l) => l.startsWith(`[${app}:`));
    if (!line) throw new Error(`no reply to ${action}: ${stdout}`);
    return JSON.parse(line.slice(line.indexOf(']=') + 2)) as Record<string, unknown>;
  };

  beforeAll(async () => {
    // The audit lines are info: the test reads them from PM2's log file.
    const redis = await freshRedisDb(7);
    rig = await startPm2Router({
      ROUTER_INSTANCES: '1',
      WORKER_INSTANCES: '1',
      QUEUE_MODE: 'bullmq',
      REDIS_URL: redis,
      LOG_LEVEL: 'info',
    });
    await pm2('start', 'ecosystem.config.js', '--only', 'psi-router-worker');
    port = rig.port;
  }, 120_000);

  afterAll(() => rig?.close());

  it('when customers write, then `pm2 jlist` (what `pm2 monit` shows) carries live rates, backlogs, p95, circuit and queue mode for the router and the worker', async () => {
    const n = PM2_METRIC_NAMES;
    // Reported from the first second on, before any traffic.
    for (const app of ['psi-router', 'psi-router-worker']) {
      await expect.poll(() => metric(n.circuit, app), { timeout: 15_000, interval: 200 }).toBe('closed');
      const idle = await metrics(app);
      expect(idle[n.in]?.value).toBe(0);
      expect(idle[n.queueMode]?.value).toBe('not needed');
    }

    const load = await customersWriting({
      urls: () => [`http://127.0.0.1:${port}`],
      customers: 6,
      perCustomer: 3,
      phonePrefix: '549118600',
    });
    expect(load.acked).toHaveLength(18);
    // The router took 18 in at its webhook and sends nothing in queue mode; the worker processed
    // the 18 and sent a menu reply to each (reply limits off), all within the minute.
    await expect.poll(() => metric(n.in), { timeout: 15_000, interval: 200 }).toBe(18);
    await expect.poll(() => metric(n.in, 'psi-router-worker'), { timeout: 20_000, interval: 200 }).toBe(18);
    await expect.poll(() => metric(n.out, 'psi-router-worker'), { timeout: 20_000, interval: 200 }).toBe(18);
    await expect.poll(() => metric(n.journal, 'psi-router-worker'), { timeout: 10_000, interval: 200 }).toBe(0);
    const api = await metrics();
    const worker = await metrics('psi-router-worker');
    expect(api[n.out]?.value).toBe(0);
    expect(worker[n.p95]?.unit).toBe('ms');
    expect(worker[n.p95]?.value).toBeGreaterThan(0);
    // Backlogs are sampled every PM2_REPORT_MS: the replies' outbox rows drain to 0 in a later sample.
    for (const app of ['psi-router', 'psi-router-worker']) {
      await expect
        .poll(
          async () => {
            const live = await metrics(app);
            return [n.outboxWhatsapp, n.outboxInbox, n.media, n.dead].map((k) => live[k]?.value);
          },
          { timeout: 10_000, interval: 200 },
        )
        .toEqual([0, 0, 0, 0]);
    }

    // Backlogs are read from the database: two poisoned events show up as dead letters.
    await withClient((c) =>
      c.query(
        `UPDATE router_eventos SET estado = 'muerto', error = 'simulated poison' WHERE id IN (SELECT id FROM router_eventos WHERE tipo = 'message' ORDER BY id LIMIT 2)`,
      ),
    );
    await expect.poll(() => metric(n.dead), { timeout: 10_000, interval: 200 }).toBe(2);
    await expect.poll(() => metric(n.dead, 'psi-router-worker'), { timeout: 10_000, interval: 200 }).toBe(2);

    // The same values in `pm2 describe`'s "Code metrics" table.
    for (const app of ['psi-router', 'psi-router-worker']) {
      const { stdout } = await pm2('describe', app);
      expect(stdout).toContain('Code metrics value');
      for (const name of Object.values(n)) expect(stdout).toContain(name);
    }
  }, 90_000);

  it('when each action is triggered with `pm2 trigger`, then the process answers it and audits it in the log', async () => {
    const dead = await trigger('dead-letters');
    expect(dead).toMatchObject({ events: 2, jobs: 0 });
    expect(dead['eventIds']).toHaveLength(2);

    expect(await trigger('dead-letters-replay')).toEqual({ events: 2, jobs: 0 });
    await expect
      .poll(
        async () =>
          (await withClient((c) => c.query(`SELECT count(*)::int AS n FROM router_eventos WHERE estado = 'muerto'`)))
            .rows[0].n,
        { timeout: 10_000, interval: 100 },
      )
      .toBe(0);
    expect(await trigger('dead-letters')).toMatchObject({ events: 0, jobs: 0 });
    // A parameter picks ids; an id that is not dead replays nothing.
    expect(await trigger('dead-letters-replay', ['999999'])).toEqual({ events: 0, jobs: 0 });
    expect((await trigger('dead-letters-replay', ['no spaces; allowed'])) as object).toMatchObject({
      error: { code: 'VALIDATION_FAILED' },
    });

    const status = await trigger('queue-status');
    expect(status).toMatchObject({
      mode: 'queue',
      queue: { waiting: 0, active: 0, delayed: 0, failed: 0 },
      queueMode: 'not needed',
    });
    expect((status['journal'] as Record<string, number>)['hecho']).toBeGreaterThanOrEqual(18);

    const catalog = await trigger('reload-catalog');
    expect(catalog['menus']).toBeGreaterThan(0);
    expect(catalog['areas']).toBeGreaterThan(0);

    const ready = await trigger('readiness');
    expect(ready).toMatchObject({ status: 'ok', issues: [] });

    // Audited like an admin call: one line per trigger, action and outcome, in PM2's log of the app.
    const logFile = path.join(rig.home, 'logs', 'psi-router-out.log');
    await expect
      .poll(
        () =>
          readFileSync(logFile, 'utf8')
            .split('\n')
            .filter((l) => l.includes('"audit":true') && l.includes('"via":"pm2"')).length,
        { timeout: 5_000, interval: 100 },
      )
      .toBe(8);
    const audits = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"via":"pm2"'))
      .map((l) => JSON.parse(l) as { action: string; outcome: string; msg: string });
    expect(new Set(audits.map((a) => a.action))).toEqual(new Set(PM2_ACTIONS.map((a) => `pm2 trigger ${a}`)));
    expect(audits.find((a) => a.outcome === 'replayed 2 events, 0 jobs')).toBeDefined();
    expect(audits.find((a) => a.outcome === 'failed')?.msg).toBe('admin action failed');

    // A worker answers too, in its own log.
    expect(await trigger('reload-catalog', [], 'psi-router-worker')).toMatchObject({ menus: expect.any(Number) });
    const workerLog = path.join(rig.home, 'logs', 'psi-router-worker-out.log');
    await expect
      .poll(() => readFileSync(workerLog, 'utf8').includes('"action":"pm2 trigger reload-catalog"'), {
        timeout: 5_000,
        interval: 100,
      })
      .toBe(true);
  }, 90_000);
});
