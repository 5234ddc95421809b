import { afterAll, describe, expect, it } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../src/simulator/graph-simulator.js';
import { adReferral, inboundEnvelope, listReplyMessage, textMessage } from '../fixtures/whatsapp/builders.js';
import { AD_AT, prepareFlowsDatabase, q, VENTAS_PNID } from '../helpers/flows-rig.js';
import { postSigned } from '../helpers/start-router.js';
import { spawnRouter, type RouterProcess } from '../helpers/spawn-router.js';
import { TEST_APP_SECRET, TEST_DATABASE_URL } from '../helpers/test-config.js';

/**
 * kill -9 in the middle of the ads funnel: 20 leads click the AT ad and tap price, modality and
 * "Inscribirme" while the router is killed; Meta redelivers everything. Afterwards every lead has
 * exactly one session, three tap rows, one derivation, one answer per message — and the ad's
 * executions grew by exactly one per lead.
 */
describe('the ads funnel across kill -9', () => {
  let router: RouterProcess | null = null;
  let sim: GraphSimulator | null = null;
  afterAll(async () => {
    await router?.stop();
    await sim?.close();
  });

  it('when the router is killed mid-funnel and every webhook is redelivered, then no tap, execution, derivation or answer is doubled', async () => {
    const db = await prepareFlowsDatabase();
    sim = await startGraphSimulator({ accessToken: 'sim-token' });
    const env = {
      DATABASE_URL: TEST_DATABASE_URL,
      WHATSAPP_APP_SECRET: TEST_APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: 'x',
      WHATSAPP_ACCESS_TOKEN: 'sim-token',
      WHATSAPP_API_URL: sim.url,
      LEASE_MS: '1500',
      SWEEP_INTERVAL_MS: '200',
      CATALOG_TTL_MS: '0',
      REPLY_FLOOD_MESSAGES: '0',
    };
    const [{ before }] = (await q<{ before: number }>(
      `SELECT ejecuciones AS before FROM config_cursos_ctwa WHERE ad_id = $1`,
      [AD_AT],
    )) as [{ before: number }];
    const leads = Array.from({ length: 20 }, (_, i) => `54911730${i.toString().padStart(5, '0')}`);
    // In the past: a lead's four messages are posted at once, and a WhatsApp time ahead of the receive
    // time is replaced by it (issue 11 item 4), which would order them by arrival instead.
    const t0 = Math.floor(Date.now() / 1000) - 20 * 4 - 60;
    const perLead = leads.map((from, i) => {
      const at = (k: number) => t0 + i * 4 + k;
      const env_ = (m: Parameters<typeof inboundEnvelope>[0]) => inboundEnvelope(m, { phoneNumberId: VENTAS_PNID });
      return [
        env_(textMessage({ from, body: 'Hola', timestamp: at(0), referral: adReferral({ sourceId: AD_AT }) })),
        env_(listReplyMessage({ from, rowId: db.options.precio, title: 'Precio', timestamp: at(1) })),
        env_(listReplyMessage({ from, rowId: db.options.modalidad, title: 'Modalidad', timestamp: at(2) })),
        env_(listReplyMessage({ from, rowId: db.options.inscribir, title: 'Inscribirme', timestamp: at(3) })),
      ];
    });
    const bodies = perLead.flat();

    router = await spawnRouter(env);
    let acked = 0;
    let killed = false;
    // Two leads at a time, each lead's messages one after the other as Meta sends one chat's webhooks
    // (messages of one chat posted at once may reach the journal in any order, and the router answers
    // what it has).
    for (let i = 0; i < perLead.length; i += 2) {
      const url = router.url;
      const results = await Promise.all(
        perLead.slice(i, i + 2).map(async (lead) => {
          let ok = 0;
          for (const b of lead) {
            if (
              await postSigned(url, b)
                .then((r) => r.status === 200)
                .catch(() => false)
            )
              ok += 1;
          }
          return ok;
        }),
      );
      acked += results.reduce((a, b) => a + b, 0);
      if (!killed && acked >= bodies.length / 3) {
        killed = true;
        await router.kill9();
        const [left] = await q<{ pending: number; leases: number; outbox: number }>(
          `SELECT (SELECT count(*)::int FROM router_eventos WHERE estado = 'pendiente') AS pending,
                  (SELECT count(*)::int FROM router_locks) AS leases,
                  (SELECT count(*)::int FROM router_outbox WHERE estado IN ('pendiente', 'enviando')) AS outbox`,
        );
        console.info(
          `kill -9 mid-funnel left ${left!.pending} pending events, ${left!.leases} leases, ${left!.outbox} unsent replies; ${acked}/${bodies.length} acked`,
        );
        router = await spawnRouter(env);
      }
    }
    expect(killed).toBe(true);
    // Meta redelivers: every webhook once more, in a different order.
    for (const b of [...bodies].reverse()) expect((await postSigned(router.url, b)).status).toBe(200);
    await expect
      .poll(
        async () =>
          (
            await q<{ n: number }>(
              `SELECT ((SELECT count(*) FROM router_eventos WHERE estado = 'pendiente')
                    + (SELECT count(*) FROM router_outbox WHERE estado IN ('pendiente', 'enviando')))::int AS n`,
            )
          )[0]!.n,
        { timeout: 90_000, interval: 200 },
      )
      .toBe(0);

    const phones = leads.map((p) => `+${p}`);
    expect(
      await q(`SELECT ejecuciones - $2::int AS added FROM config_cursos_ctwa WHERE ad_id = $1`, [AD_AT, before]),
    ).toEqual([{ added: leads.length }]);
    const sessions = await q<{ telefono: string; n: number; estado: string; interacciones: number }>(
      `SELECT telefono, count(*)::int AS n, max(estado) AS estado, max(interacciones)::int AS interacciones
         FROM menu_sesiones WHERE telefono = ANY ($1) GROUP BY telefono`,
      [phones],
    );
    expect(sessions).toHaveLength(leads.length);
    expect(sessions.filter((s) => s.n !== 1 || s.estado !== 'derivado' || s.interacciones !== 3)).toEqual([]);
    const taps = await q<{ n: number; distinct_taps: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT (telefono, opcion_id))::int AS distinct_taps
         FROM menu_interacciones WHERE telefono = ANY ($1)`,
      [phones],
    );
    expect(taps).toEqual([{ n: leads.length * 3, distinct_taps: leads.length * 3 }]);
    expect(await q(`SELECT count(*)::int AS n FROM derivaciones WHERE telefono = ANY ($1)`, [phones])).toEqual([
      { n: leads.length },
    ]);
    // One answer per customer message: no reply row decided twice.
    expect(
      await q(
        `SELECT metadata->>'en_respuesta_a' AS wamid, metadata->>'ord' AS ord, count(*)::int AS n
           FROM mensajes WHERE remitente_tipo = 'bot' AND metadata ? 'en_respuesta_a'
          GROUP BY 1, 2 HAVING count(*) > 1`,
      ),
    ).toEqual([]);
    // Each reply row left through the outbox at most once per outbox row (sender dedup is its own test).
    const bot = await q<{ n: number }>(
      `SELECT count(*)::int AS n FROM mensajes m JOIN conversaciones c ON c.id = m.conversacion_id
        WHERE c.telefono = ANY ($1) AND m.remitente_tipo = 'bot'`,
      [phones],
    );
    // click: saludo + bienvenida + list; precio: text + list; modalidad: text; inscribir: text.
    expect(bot).toEqual([{ n: leads.length * 7 }]);
  }, 180_000);
});
