import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../src/simulator/graph-simulator.js';
import { flatBody, rawUpsert, evolutionMessageKey } from '../../src/simulator/evolution/payloads.js';
import { postEvolutionWebhook } from '../../src/simulator/evolution/webhook-poster.js';
import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { EVO_KEY, EvolutionRig, LINES, q, q1, type LineCode } from '../helpers/evolution-rig.js';
import { freshRedisDb } from '../helpers/redis.js';
import { spawnWorker, type RouterProcess } from '../helpers/spawn-router.js';
import { TEST_DATABASE_URL } from '../helpers/test-config.js';
import { resetDatabase } from '../helpers/reset-db.js';
import { postSigned } from '../helpers/start-router.js';

const CUSTOMERS = 24;
const STEPS = 6;
const TOKEN = 'graph-token-mixed-load';

/**
 * Cloud API and Evolution conversations at once, each customer writing STEPS messages as a person
 * does (one after the other), every delivery sent twice in parallel (at-least-once redelivery):
 * nothing is lost or stored twice, and every conversation is processed in WhatsApp order, one
 * message at a time.
 */
describe('Cloud API and Evolution traffic mixed', () => {
  let graph: GraphSimulator;
  let rig: EvolutionRig;

  beforeAll(async () => {
    await resetDatabase();
    graph = await startGraphSimulator({ accessToken: TOKEN });
    rig = new EvolutionRig({ WHATSAPP_ACCESS_TOKEN: TOKEN, WHATSAPP_API_URL: graph.url, MEDIA_STORAGE: 'off' });
    await rig.start();
    await rig.configureLines();
  }, 60_000);
  afterAll(async () => {
    await rig.stop();
    await graph.close();
  });

  it('when both kinds of lines are loaded in parallel with redeliveries, then nothing is lost or doubled and each conversation keeps its order', async () => {
    const lines = Object.keys(LINES) as LineCode[];
    const baseTs = Math.floor(Date.now() / 1000) - 600;
    const acked: string[] = [];
    const twice = async (send: () => Promise<Response>) => {
      const [a, b] = await Promise.all([send(), send()]);
      expect([a.status, b.status]).toEqual([200, 200]);
    };
    const cloudCustomer = async (c: number) => {
      const from = `54911700${String(c).padStart(5, '0')}`;
      for (let step = 0; step < STEPS; step++) {
        const msg = textMessage({ from, body: `cloud ${step}`, timestamp: baseTs + step * 5 });
        await twice(() => postSigned(rig.url, inboundEnvelope(msg)));
        acked.push(msg.id);
      }
    };
    const evolutionCustomer = async (c: number) => {
      const line = lines[c % lines.length]!;
      const { instancia, secret } = LINES[line];
      const from = `54911800${String(c).padStart(5, '0')}`;
      for (let step = 0; step < STEPS; step++) {
        const id = evolutionMessageKey();
        const ts = baseTs + step * 5;
        // Raw and flat shapes alternate within one conversation, as when n8n relays part of a line.
        const body =
          step % 2 === 0
            ? rawUpsert({ instance: instancia, from, id, text: `evo ${step}`, timestamp: ts })
            : flatBody({ telefono: from, messageId: id, mensaje: `evo ${step}`, timestamp: ts });
        await twice(() => postEvolutionWebhook(`${rig.url}/webhook/evolution/${line}`, body, secret));
        acked.push(`evo:${instancia}:${id}`);
      }
    };
    const started = Date.now();
    await Promise.all([
      ...Array.from({ length: CUSTOMERS }, (_, c) => cloudCustomer(c)),
      ...Array.from({ length: CUSTOMERS }, (_, c) => evolutionCustomer(c)),
    ]);
    await rig.settle(120_000);
    const elapsedS = (Date.now() - started) / 1000;

    const stored = await q<{ wamid: string; n: number }>(
      `SELECT whatsapp_message_id AS wamid, count(*)::int AS n FROM mensajes WHERE whatsapp_message_id = ANY($1) GROUP BY 1`,
      [acked],
    );
    expect(acked).toHaveLength(2 * CUSTOMERS * STEPS);
    expect(stored).toHaveLength(acked.length); // none lost
    expect(stored.filter((r) => r.n !== 1)).toEqual([]); // none doubled
    // Processing order per conversation follows WhatsApp time, and never overlaps.
    expect(
      await q1(`
        SELECT count(*)::int AS n FROM (
          SELECT wa_ts, lag(wa_ts) OVER (PARTITION BY conv_key ORDER BY iniciado_at) AS prev_ts,
                 iniciado_at, lag(procesado_at) OVER (PARTITION BY conv_key ORDER BY iniciado_at) AS prev_end
            FROM router_eventos WHERE tipo = 'message') t
         WHERE prev_ts > wa_ts OR prev_end > iniciado_at`),
    ).toEqual({ n: 0 });
    // The chat shows each conversation's messages in the order they were written.
    expect(
      await q1(`
        SELECT count(*)::int AS n FROM (
          SELECT mensaje, lag(mensaje) OVER (PARTITION BY conversacion_id ORDER BY "timestamp", created_at) AS prev
            FROM mensajes WHERE direccion = 'entrante') t
         WHERE right(prev, 1)::int > right(mensaje, 1)::int`),
    ).toEqual({ n: 0 });
    expect(await q1(`SELECT count(*)::int AS n FROM conversaciones`)).toEqual({ n: 2 * CUSTOMERS });
    process.stdout.write(
      `mixed load: ${acked.length} messages (${acked.length * 2} deliveries) over Cloud API and ${lines.length} Evolution lines in ${elapsedS.toFixed(1)} s\n`,
    );
  }, 180_000);
});

describe('Evolution lines in queue mode', () => {
  let rig: EvolutionRig;
  let worker: RouterProcess;

  beforeAll(async () => {
    await resetDatabase();
    const redisUrl = await freshRedisDb(13);
    rig = new EvolutionRig({ QUEUE_MODE: 'bullmq', REDIS_URL: redisUrl, MEDIA_STORAGE: 'off' });
    await rig.start();
    await rig.configureLines();
    worker = await spawnWorker({
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: redisUrl,
      WHATSAPP_APP_SECRET: 'x',
      EVOLUTION_API_URL: rig.sim.url,
      EVOLUTION_API_KEY: EVO_KEY,
      LEASE_MS: '1500',
      SWEEP_INTERVAL_MS: '200',
    });
  }, 60_000);
  afterAll(async () => {
    await worker?.stop();
    await rig.stop();
  });

  it('when Evolution webhooks are acknowledged by the api and processed by a worker, then each message is stored once and answered once', async () => {
    const { instancia, secret } = LINES.alumnos;
    const ids = Array.from({ length: 10 }, () => evolutionMessageKey());
    const baseTs = Math.floor(Date.now() / 1000) - 60;
    const answers = await Promise.all(
      ids.flatMap((id, i) =>
        Array.from({ length: 5 }, () =>
          postEvolutionWebhook(
            `${rig.url}/webhook/evolution/alumnos`,
            rawUpsert({ instance: instancia, from: '5491155501000', id, text: `q ${i}`, timestamp: baseTs + i }),
            secret,
          ),
        ),
      ),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await expect
      .poll(() => q1(`SELECT count(*)::int AS n FROM mensajes WHERE direccion = 'entrante'`), { timeout: 30_000 })
      .toEqual({ n: ids.length });
    await rig.settle(30_000);
    expect(
      await q(
        `SELECT count(*)::int AS n FROM mensajes WHERE whatsapp_message_id = ANY($1) GROUP BY whatsapp_message_id`,
        [ids.map((id) => `evo:${instancia}:${id}`)],
      ),
    ).toEqual(ids.map(() => ({ n: 1 })));
    // The line's note went once to this new customer, through the worker's outbox sender or the api's.
    expect(rig.sim.sent.map((m) => m.number)).toEqual(['5491155501000']);
  }, 90_000);
});
