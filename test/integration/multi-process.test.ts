import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { INBOUND_QUEUE } from '../../src/conversations/queues.js';
import { startGraphSimulator, type GraphSimulator } from '../../src/simulator/graph-simulator.js';
import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { audit } from '../helpers/audit.js';
import { customersWriting } from '../helpers/load.js';
import { freshRedisDb } from '../helpers/redis.js';
import { migrateTestDatabase, resetDatabase, truncateData, withClient } from '../helpers/reset-db.js';
import { spawnRouter, spawnWorker, type RouterProcess } from '../helpers/spawn-router.js';
import { postSigned } from '../helpers/start-router.js';
import { TEST_APP_SECRET, TEST_DATABASE_URL } from '../helpers/test-config.js';

/**
 * The guarantees of DESIGN §5 under real parallel load across real OS processes: two direct-mode
 * routers, or one queue-mode api with three workers, all on the same Postgres (and Redis).
 */
describe('multi-process load', () => {
  let sim: GraphSimulator;
  const procs: RouterProcess[] = [];
  let env: Record<string, string>;

  /** Nothing left anywhere: no job in Redis, no pending journal event, nothing in the outbox. */
  const settled = async (redisUrl?: string) => {
    const queue = redisUrl
      ? new Queue(INBOUND_QUEUE, { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }) })
      : null;
    try {
      await expect
        .poll(
          async () => {
            const jobs = queue
              ? Object.values(await queue.getJobCounts('waiting', 'active', 'delayed')).reduce((a, b) => a + b, 0)
              : 0;
            const rows = await withClient((c) =>
              c.query<{ n: number }>(
                `SELECT ((SELECT count(*) FROM router_eventos WHERE estado = 'pendiente') + (SELECT count(*) FROM router_outbox WHERE estado IN ('pendiente', 'enviando')))::int AS n`,
              ),
            );
            return jobs + rows.rows[0]!.n;
          },
          { timeout: 90_000, interval: 100 },
        )
        .toBe(0);
    } finally {
      await queue?.close();
    }
  };

  beforeAll(async () => {
    await resetDatabase();
    await migrateTestDatabase();
    sim = await startGraphSimulator({ accessToken: 'sim-token' });
    env = {
      DATABASE_URL: TEST_DATABASE_URL,
      WHATSAPP_APP_SECRET: TEST_APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: 'x',
      WHATSAPP_ACCESS_TOKEN: 'sim-token',
      WHATSAPP_API_URL: sim.url,
      LEASE_MS: '2000',
      SWEEP_INTERVAL_MS: '200',
      OUTBOX_POLL_MS: '50',
      DB_POOL_MAX: '8',
    };
  });
  beforeEach(async () => {
    await truncateData();
    sim.reset();
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop()));
  });
  afterAll(async () => {
    await sim.close();
  });

  it('when 50 customers write at once to 2 direct-mode router processes, then order, exclusion and exactly-once hold', async () => {
    procs.push(await spawnRouter(env), await spawnRouter(env));
    const urls = procs.map((p) => p.url);
    const load = await customersWriting({ urls: () => urls, customers: 50, perCustomer: 4, phonePrefix: '549118100' });
    expect(load.unacked).toEqual([]);
    await settled();
    const result = await audit(load.acked, sim);
    expect(result).toMatchObject({
      acked: 200,
      lost: 0,
      storedTwice: 0,
      unanswered: 0,
      answeredTwice: 0,
      outOfOrderReplies: 0,
      overlappingProcessing: 0,
      duplicateContacts: 0,
      duplicateConversations: 0,
      sentTwiceAtSimulator: 0,
    });
    expect(result.processors).toBe(2); // both processes really processed
  });

  it('when the same wamid is posted to two processes at the same instant, then it is stored once and answered once', async () => {
    procs.push(await spawnRouter(env), await spawnRouter(env));
    const bodies = Array.from({ length: 20 }, (_, i) =>
      inboundEnvelope(textMessage({ from: `54911820${String(i).padStart(5, '0')}`, body: 'dos veces' })),
    );
    const res = await Promise.all(bodies.flatMap((b) => procs.map((p) => postSigned(p.url, b))));
    expect(res.every((r) => r.status === 200)).toBe(true);
    await settled();
    const wamids = bodies.map((b) => (b.entry[0]!.changes[0]!.value['messages'] as { id: string }[])[0]!.id);
    expect(await audit(wamids, sim)).toMatchObject({
      acked: 20,
      lost: 0,
      storedTwice: 0,
      unanswered: 0,
      answeredTwice: 0,
      sentTwiceAtSimulator: 0,
    });
    expect(sim.stats().sent).toBe(20);
  });

  it('when 50 customers write at once to a queue-mode api with 3 workers, then order, exclusion and exactly-once hold', async () => {
    const redis = await freshRedisDb(5);
    const qenv = { ...env, QUEUE_MODE: 'bullmq', REDIS_URL: redis };
    procs.push(await spawnRouter(qenv), await spawnWorker(qenv), await spawnWorker(qenv), await spawnWorker(qenv));
    const load = await customersWriting({
      urls: () => [procs[0]!.url],
      customers: 50,
      perCustomer: 4,
      phonePrefix: '549118300',
    });
    expect(load.unacked).toEqual([]);
    await settled(redis);
    const result = await audit(load.acked, sim);
    expect(result).toMatchObject({
      acked: 200,
      lost: 0,
      storedTwice: 0,
      unanswered: 0,
      answeredTwice: 0,
      outOfOrderReplies: 0,
      overlappingProcessing: 0,
      duplicateContacts: 0,
      duplicateConversations: 0,
      sentTwiceAtSimulator: 0,
    });
    expect(result.processors).toBe(3); // the three workers shared the work
  });

  it('when a worker is killed -9 in the middle of queue-mode load and restarted, then every acknowledged message is stored and answered exactly once', async () => {
    const redis = await freshRedisDb(6);
    const qenv = {
      ...env,
      QUEUE_MODE: 'bullmq',
      REDIS_URL: redis,
      QUEUE_LOCK_MS: '2000',
      OUTBOX_CLAIM_MS: '3000',
      // Long enough that a loaded machine's slow simulator answer is not a timeout and a resend: this
      // test counts only the resends a kill can cause.
      GRAPH_TIMEOUT_MS: '5000',
    };
    procs.push(await spawnRouter(qenv), await spawnWorker(qenv), await spawnWorker(qenv), await spawnWorker(qenv));
    let killed = false;
    const load = await customersWriting({
      urls: () => [procs[0]!.url],
      customers: 50,
      perCustomer: 4,
      phonePrefix: '549118400',
      onAck: async (n) => {
        if (killed || n < 70) return;
        killed = true;
        await procs[1]!.kill9();
        procs[1] = await spawnWorker(qenv);
      },
    });
    expect(killed).toBe(true);
    await settled(redis);
    const result = await audit(load.acked, sim);
    console.info('kill -9 audit', result);
    expect(result).toMatchObject({
      lost: 0,
      storedTwice: 0,
      unanswered: 0,
      answeredTwice: 0,
      outOfOrderReplies: 0,
      overlappingProcessing: 0,
    });
    // A reply can go out twice only if the kill fell between Meta's answer and recording its wamid:
    // at most the sends the killed worker had in flight (OUTBOX_CONCURRENCY, 16 by default).
    expect(result.sentTwiceAtSimulator).toBeLessThanOrEqual(16);
  }, 150_000);
});
