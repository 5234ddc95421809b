import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INBOUND_QUEUE } from '../../src/conversations/queues.js';
import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { freshRedisDb } from '../helpers/redis.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { spawnWorker, type RouterProcess } from '../helpers/spawn-router.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { hostPort, testConfig, TEST_DATABASE_URL, viaPort } from '../helpers/test-config.js';

const ATTEMPTS = 2;
const inbound = () =>
  withClient(async (c) =>
    (
      await c.query<{ mensaje: string }>(
        `SELECT mensaje FROM mensajes WHERE direccion = 'entrante' ORDER BY "timestamp"`,
      )
    ).rows.map((r) => r.mensaje),
  );

/**
 * Issue 11 item 3: every job here was acknowledged to Meta, which will never redeliver it. A worker
 * process whose database is away must keep such jobs (not spend their attempts into the failed set)
 * for as long as the outage lasts. The outage is a cut proxy between a real worker process and the
 * real PostgreSQL; "longer than the attempts allow" is measured in pick-ups, not in seconds.
 */
describe('queue mode: a database outage longer than the job attempts', () => {
  let proxy: TcpProxy;
  let api: RunningRouter;
  let worker: RouterProcess;
  let queue: Queue;
  let redisUrl: string;

  beforeAll(async () => {
    await resetDatabase();
    redisUrl = await freshRedisDb(4);
    const pg = hostPort(TEST_DATABASE_URL, 5432);
    proxy = await startTcpProxy(pg.host, pg.port);
    // The producer sets the job options: 2 attempts 50 ms apart would be over in well under a second.
    api = await startRouter(
      testConfig({
        QUEUE_MODE: 'bullmq',
        REDIS_URL: redisUrl,
        QUEUE_JOB_ATTEMPTS: String(ATTEMPTS),
        QUEUE_JOB_BACKOFF_MS: '50',
      }),
    );
    worker = await spawnWorker({
      REDIS_URL: redisUrl,
      DATABASE_URL: viaPort(TEST_DATABASE_URL, proxy.port),
      DB_CONNECT_TIMEOUT_MS: '300',
      QUEUE_JOB_BACKOFF_MS: '50',
    });
    queue = new Queue(INBOUND_QUEUE, { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }) });
  });
  afterAll(async () => {
    proxy.restore();
    await worker?.stop();
    await api?.stop();
    await queue?.close();
    await proxy?.close();
  });

  it('when the worker cannot reach Postgres for many times the attempts, then no acknowledged job reaches the failed set, and all are stored once it is back', async () => {
    proxy.cut();
    const t = Math.floor(Date.now() / 1000) - 60;
    const bodies = ['antes del corte 1', 'antes del corte 2', 'antes del corte 3'];
    for (const [i, body] of bodies.entries()) {
      const res = await api.postWebhook(inboundEnvelope(textMessage({ body, timestamp: t + i })));
      expect(res.status).toBe(200); // acknowledged: Meta will not send these again
    }

    // Wait until every job has been picked up at least 2× the attempts it is allowed (or one failed).
    const progress = async () => {
      if (((await queue.getJobCounts('failed')).failed ?? 0) > 0) return 'a job reached the failed set';
      const jobs = await queue.getJobs(['wait', 'delayed', 'active', 'prioritized']);
      return jobs.length === bodies.length && jobs.every((j) => j.attemptsStarted >= 2 * ATTEMPTS + 1)
        ? 'retried past its attempts'
        : 'waiting';
    };
    await expect.poll(progress, { timeout: 30_000, interval: 100 }).toBe('retried past its attempts');
    const jobs = await queue.getJobs(['wait', 'delayed', 'active', 'prioritized']);
    expect(jobs.map((j) => j.attemptsMade)).toEqual([0, 0, 0]); // an outage spends no attempt
    expect(worker.logs.some((l) => l.msg === 'database unavailable: inbound job put back, no attempt spent')).toBe(
      true,
    );
    expect(worker.logs.some((l) => l.msg === 'inbound job dead-lettered')).toBe(false);

    proxy.restore();
    await expect.poll(inbound, { timeout: 45_000, interval: 100 }).toEqual(bodies);
    expect(await queue.getJobCounts('failed', 'delayed', 'wait')).toEqual({ failed: 0, delayed: 0, wait: 0 });
  });
});
