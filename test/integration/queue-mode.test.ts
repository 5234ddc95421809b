import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { INBOUND_QUEUE } from '../../src/conversations/queues.js';
import { createRuntime, listen, type Runtime } from '../../src/start/runtime.js';
import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { freshRedisDb } from '../helpers/redis.js';
import { resetDatabase, truncateData, withClient } from '../helpers/reset-db.js';
import { postSigned, readJson, startRouter } from '../helpers/start-router.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { hostPort, testConfig, viaPort } from '../helpers/test-config.js';

const inbound = () =>
  withClient(async (c) =>
    (
      await c.query<{ mensaje: string }>(
        `SELECT mensaje FROM mensajes WHERE direccion = 'entrante' ORDER BY "timestamp"`,
      )
    ).rows.map((r) => r.mensaje),
  );
let clock = Math.floor(Date.now() / 1000) - 100;

/** A queue-mode worker in this process (same wiring as `npm run worker`). */
async function startWorker(env: Record<string, string>): Promise<Runtime> {
  const runtime = await createRuntime(testConfig({ QUEUE_MODE: 'bullmq', ...env }), pino({ level: 'silent' }), {
    role: 'worker',
  });
  runtime.startBackground();
  return runtime;
}
async function stopWorker(runtime: Runtime): Promise<void> {
  await runtime.closeBackground();
  await runtime.processor.stop(5_000);
  await runtime.sender.stop();
  await runtime.db.close();
}

describe('queue mode (QUEUE_MODE=bullmq)', () => {
  let redisUrl: string;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    await resetDatabase();
    redisUrl = await freshRedisDb(3);
  });
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
    await truncateData();
    await freshRedisDb(3);
  });
  afterAll(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  it('when a batch arrives, then the webhook answers 200 after enqueueing, without a single database statement, and a worker stores it', async () => {
    const api = await startRouter(testConfig({ QUEUE_MODE: 'bullmq', REDIS_URL: redisUrl }));
    cleanups.push(() => api.stop());
    const before = api.runtime.db.statementCount();
    const res = await api.postWebhook(inboundEnvelope(textMessage({ body: 'por la cola', timestamp: (clock += 1) })));
    expect(res.status).toBe(200);
    expect(await readJson(res)).toMatchObject({ received: 1, stored: 1 });
    expect(api.runtime.db.statementCount()).toBe(before); // nothing touched Postgres on the ack path
    expect(await inbound()).toEqual([]); // and nobody processed it yet: the api does not consume

    const worker = await startWorker({ REDIS_URL: redisUrl });
    cleanups.push(() => stopWorker(worker));
    await expect.poll(inbound, { timeout: 10_000, interval: 50 }).toEqual(['por la cola']);
  });

  it('when Meta redelivers a wamid while its job exists, then the job id collapses it and it is stored once', async () => {
    const api = await startRouter(testConfig({ QUEUE_MODE: 'bullmq', REDIS_URL: redisUrl }));
    cleanups.push(() => api.stop());
    const body = inboundEnvelope(textMessage({ body: 'una vez', timestamp: (clock += 1) }));
    await Promise.all(Array.from({ length: 10 }, () => api.postWebhook(body)));
    const queue = new Queue(INBOUND_QUEUE, { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }) });
    cleanups.push(async () => {
      await queue.close();
    });
    expect((await queue.getJobCounts('waiting')).waiting).toBe(1);
    const worker = await startWorker({ REDIS_URL: redisUrl });
    cleanups.push(() => stopWorker(worker));
    await expect.poll(inbound, { timeout: 10_000, interval: 50 }).toEqual(['una vez']);
  });

  it('when Redis is unreachable on the ack path, then Meta gets 503, and 200 again once it is back', async () => {
    const target = hostPort(redisUrl, 6379);
    const proxy: TcpProxy = await startTcpProxy(target.host, target.port);
    const api = await startRouter(testConfig({ QUEUE_MODE: 'bullmq', REDIS_URL: viaPort(redisUrl, proxy.port) }));
    cleanups.push(async () => {
      await api.stop();
      await proxy.close();
    });
    const body = inboundEnvelope(textMessage({ body: 'redis caído', timestamp: (clock += 1) }));
    proxy.cut();
    const res = await api.postWebhook(body);
    expect(res.status).toBe(503);
    expect((await readJson(res)).error.code).toBe('QUEUE_UNAVAILABLE');
    expect((await readJson(await fetch(`${api.url}/ready`))).issues).toContain('redis_unreachable');
    proxy.restore();
    // Meta keeps redelivering; once ioredis has reconnected the same body is accepted.
    await expect.poll(async () => (await api.postWebhook(body)).status, { timeout: 15_000, interval: 100 }).toBe(200);
  });

  it('when a job fails for a reason of its own through all its attempts, then it waits in the dead letters and a replay stores it', async () => {
    const api = await startRouter(
      testConfig({ QUEUE_MODE: 'bullmq', REDIS_URL: redisUrl, QUEUE_JOB_ATTEMPTS: '2', QUEUE_JOB_BACKOFF_MS: '50' }),
    );
    cleanups.push(() => api.stop());
    const worker = await startWorker({ REDIS_URL: redisUrl });
    // A rule the database enforces on the journal (as a CRM trigger would): the store is up, but it
    // refuses this event. Such a job, unlike one that meets an outage (queue-outage.test.ts), spends its attempts.
    await withClient((c) =>
      c.query(`CREATE FUNCTION test_refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by a test rule'; END $$;
               CREATE TRIGGER test_refuse_event BEFORE INSERT ON router_eventos FOR EACH ROW EXECUTE FUNCTION test_refuse_event();`),
    );
    cleanups.push(async () => {
      await withClient((c) =>
        c.query(
          'DROP TRIGGER IF EXISTS test_refuse_event ON router_eventos; DROP FUNCTION IF EXISTS test_refuse_event()',
        ),
      );
      await stopWorker(worker);
    });
    await api.postWebhook(inboundEnvelope(textMessage({ body: 'rechazado', timestamp: (clock += 1) })));
    await expect
      .poll(async () => (await api.runtime.deadLetters.list()).jobs.length, { timeout: 10_000, interval: 50 })
      .toBe(1);
    const [dead] = (await api.runtime.deadLetters.list()).jobs;
    expect(dead).toMatchObject({ attemptsMade: 2 });
    expect(dead!.failedReason).toMatch(/refused by a test rule/);

    await withClient((c) => c.query('DROP TRIGGER test_refuse_event ON router_eventos'));
    expect(await api.runtime.deadLetters.replay({ jobIds: null })).toEqual({ events: 0, jobs: 1 });
    await expect.poll(inbound, { timeout: 10_000, interval: 50 }).toEqual(['rechazado']);
  });

  it('when a message fails processing every time, then it is dead-lettered in the journal, later messages go on, and a replay processes it', async () => {
    let poisoned = true;
    const runtime = await createRuntime(testConfig({ PROCESS_MAX_ATTEMPTS: '2' }), pino({ level: 'silent' }), {
      handler: {
        async handle(ctx) {
          if (poisoned && ctx.event.text === 'veneno') throw new Error('handler bug');
          return { outcome: 'stored' };
        },
      },
    });
    const server = await listen(runtime.app, 0, '127.0.0.1');
    runtime.processor.start();
    cleanups.push(async () => {
      server.close();
      await runtime.processor.stop(2_000);
      await runtime.sender.stop();
      await runtime.db.close();
    });
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    await postSigned(url, inboundEnvelope(textMessage({ body: 'veneno', timestamp: (clock += 1) })));
    await postSigned(url, inboundEnvelope(textMessage({ body: 'después', timestamp: (clock += 1) })));
    await expect
      .poll(async () => (await runtime.deadLetters.list()).events.length, { timeout: 15_000, interval: 50 })
      .toBe(1);
    await expect
      .poll(
        async () =>
          (await withClient((c) => c.query(`SELECT estado FROM router_eventos ORDER BY id`))).rows.map((r) => r.estado),
        { timeout: 15_000, interval: 50 },
      )
      .toEqual(['muerto', 'hecho']);
    const [dead] = (await runtime.deadLetters.list()).events;
    expect(dead!.error).toMatch(/handler bug/);
    poisoned = false;
    expect(await runtime.deadLetters.replay({ eventIds: null })).toEqual({ events: 1, jobs: 0 });
    await expect
      .poll(
        async () =>
          (await withClient((c) => c.query(`SELECT estado FROM router_eventos ORDER BY id`))).rows.map((r) => r.estado),
        { timeout: 15_000, interval: 50 },
      )
      .toEqual(['hecho', 'hecho']);
  });

  it('when rolling back to QUEUE_MODE=off with jobs left in Redis, then the direct-mode router drains and processes them', async () => {
    const api = await startRouter(testConfig({ QUEUE_MODE: 'bullmq', REDIS_URL: redisUrl }));
    for (const body of ['quedó en cola 1', 'quedó en cola 2'])
      await api.postWebhook(inboundEnvelope(textMessage({ body, timestamp: (clock += 1) })));
    await api.stop();
    expect(await inbound()).toEqual([]);

    const direct = await startRouter(testConfig({ QUEUE_MODE: 'off', REDIS_URL: redisUrl }));
    cleanups.push(() => direct.stop());
    direct.runtime.startBackground();
    await expect.poll(inbound, { timeout: 10_000, interval: 50 }).toEqual(['quedó en cola 1', 'quedó en cola 2']);
  });
});
