import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { postSigned } from '../helpers/start-router.js';
import { spawnRouter, type RouterProcess } from '../helpers/spawn-router.js';
import { TEST_APP_SECRET, TEST_DATABASE_URL } from '../helpers/test-config.js';

const ENV = {
  DATABASE_URL: TEST_DATABASE_URL,
  WHATSAPP_APP_SECRET: TEST_APP_SECRET,
  WHATSAPP_VERIFY_TOKEN: 'x',
  LEASE_MS: '1500',
  SWEEP_INTERVAL_MS: '200',
};

describe('durability across kill -9', () => {
  let router: RouterProcess | null = null;

  beforeAll(async () => {
    await resetDatabase();
  });
  afterAll(async () => {
    await router?.stop();
  });

  it('when the router is killed -9 in the middle of load, then every acknowledged message is stored after restart and none is processed twice', async () => {
    router = await spawnRouter(ENV);
    const acked: string[] = [];
    const sent: Promise<void>[] = [];
    let killed = false;
    let leftAtKill = { pending: 0, leases: 0 };
    const total = 300;
    for (let i = 0; i < total; i++) {
      const phone = `54911900${(i % 40).toString().padStart(5, '0')}`;
      const msg = textMessage({ from: phone, body: `carga ${i}`, timestamp: 1_780_400_000 + i });
      const url = router.url;
      sent.push(
        postSigned(url, inboundEnvelope(msg))
          .then((res) => {
            if (res.status === 200) acked.push(msg.id);
          })
          .catch(() => undefined), // connection reset by the kill: Meta would redeliver, not counted as acked
      );
      // Kill once a third of the load is acknowledged, while requests and processing are in flight.
      if (!killed && acked.length >= total / 3) {
        killed = true;
        await router.kill9();
        const left = await withClient((c) =>
          c.query<{ pending: number; leases: number }>(
            `SELECT (SELECT count(*)::int FROM router_eventos WHERE estado = 'pendiente') AS pending, (SELECT count(*)::int FROM router_locks) AS leases`,
          ),
        );
        leftAtKill = left.rows[0]!;
      }
      if (i % 20 === 19) await Promise.all(sent.slice(-20));
    }
    await Promise.all(sent);
    expect(killed).toBe(true);
    expect(acked.length).toBeGreaterThanOrEqual(total / 3);

    console.info(
      `kill -9 left ${leftAtKill.pending} pending events and ${leftAtKill.leases} leases; ${acked.length}/${total} acked`,
    );
    router = await spawnRouter(ENV);
    await expect
      .poll(
        async () =>
          (await withClient((c) => c.query(`SELECT count(*)::int AS n FROM router_eventos WHERE estado = 'pendiente'`)))
            .rows[0].n,
        {
          timeout: 30_000,
          interval: 100,
        },
      )
      .toBe(0);

    const stored = await withClient(async (c) => {
      const rows = await c.query<{ whatsapp_message_id: string; n: number }>(
        `SELECT whatsapp_message_id, count(*)::int AS n FROM mensajes WHERE whatsapp_message_id = ANY($1) GROUP BY 1`,
        [acked],
      );
      return rows.rows;
    });
    const lost = acked.filter((id) => !stored.some((r) => r.whatsapp_message_id === id));
    expect(lost).toEqual([]);
    // One row per wamid is the unique index's doing; what a replay after the kill could repeat is
    // the processing: each stored message must have been answered at most once.
    const answers = await withClient(async (c) => {
      const rows = await c.query<{ wamid: string; n: number }>(
        `SELECT metadata->>'en_respuesta_a' AS wamid, count(*)::int AS n FROM mensajes
          WHERE direccion = 'saliente' AND metadata->>'en_respuesta_a' = ANY($1) GROUP BY 1`,
        [acked],
      );
      return rows.rows;
    });
    expect(answers.length).toBeGreaterThan(0); // the check below is not vacuous
    expect(answers.filter((a) => a.n > 1)).toEqual([]);
    // A context query replayed after the kill must not count a message twice.
    const unread = await withClient((c) =>
      c.query<{ ok: boolean }>(
        `SELECT bool_and(cv.mensajes_no_leidos = (SELECT count(*) FROM mensajes m WHERE m.conversacion_id = cv.id AND m.direccion = 'entrante')) AS ok FROM conversaciones cv`,
      ),
    );
    expect(unread.rows[0]!.ok).toBe(true);
  });
});
