import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { startRoutingRig, type RoutingRig } from '../helpers/routing-bench.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { hostPort, TEST_DATABASE_URL, viaPort } from '../helpers/test-config.js';

/**
 * DESIGN §5 "a duplicate send is possible only in the instant between Meta's answer and recording
 * it": when the database goes away while a send is in flight, the accepted send must be recorded
 * once it is back — not resent after its claim expires.
 */
describe('outbox: a send accepted while the database is away', () => {
  let proxy: TcpProxy;
  let rig: RoutingRig;

  beforeAll(async () => {
    await resetDatabase();
    const pg = hostPort(TEST_DATABASE_URL, 5432);
    proxy = await startTcpProxy(pg.host, pg.port);
    rig = await startRoutingRig(
      {
        DATABASE_URL: viaPort(TEST_DATABASE_URL, proxy.port),
        DB_CONNECT_TIMEOUT_MS: '300',
        OUTBOX_CLAIM_MS: '1000',
        OUTBOX_POLL_MS: '50',
      },
      { statuses: false, simLatencyMs: 600 },
    );
  });
  afterAll(async () => {
    proxy.restore();
    await rig.close();
    await proxy.close();
  });

  it('when Meta accepts a reply while Postgres is unreachable, then it is recorded afterwards and sent exactly once', async () => {
    await rig.router.postWebhook(
      inboundEnvelope(textMessage({ body: 'hola', timestamp: Math.floor(Date.now() / 1000) - 5 })),
    );
    await rig.router.idle();
    // The sender has claimed the reply and is waiting on Graph (600 ms of simulated latency)…
    await expect
      .poll(
        async () => (await withClient((c) => c.query(`SELECT estado FROM router_outbox`))).rows.map((r) => r.estado),
        { timeout: 5_000, interval: 10 },
      )
      .toEqual(['enviando']);
    proxy.cut();
    const [sent] = await rig.sim.waitForSent(1, 5_000); // …and Meta accepts it while the database is away.
    // Stay away past the claim lease (1 s): a sender that forgot the accepted send would resend it.
    await new Promise((r) => setTimeout(r, 1_500));
    proxy.restore();
    await expect
      .poll(async () => (await withClient((c) => c.query(`SELECT estado, wamid FROM router_outbox`))).rows, {
        timeout: 10_000,
        interval: 50,
      })
      .toEqual([{ estado: 'enviado', wamid: sent!.wamid }]);
    await rig.settle();
    expect(rig.sim.sent).toHaveLength(1);
  });

  it('when Meta accepts the replies of one pass together while Postgres is unreachable, then the refused batch is kept, each is recorded afterwards and none is sent twice', async () => {
    await rig.reset();
    const post = (from: string) =>
      rig.router.postWebhook(
        inboundEnvelope(textMessage({ from, body: 'hola', timestamp: Math.floor(Date.now() / 1000) - 5 })),
      );
    const states = async () =>
      (await withClient((c) => c.query(`SELECT estado FROM router_outbox ORDER BY id`))).rows.map((r) => r.estado);
    // A first customer's reply holds the sender's pass on Graph (600 ms of simulated latency)…
    await post('5491122220000');
    await rig.router.idle();
    await expect.poll(states, { timeout: 5_000, interval: 10 }).toEqual(['enviando']);
    // …while four more customers' replies are committed: the next pass claims those four together,
    // Meta answers them together, and their records meet in one batch — the one the outage refuses.
    for (const from of ['5491122220001', '5491122220002', '5491122220003', '5491122220004']) await post(from);
    await rig.router.idle();
    expect(await states()).toEqual(['enviando', 'pendiente', 'pendiente', 'pendiente', 'pendiente']);
    await expect
      .poll(states, { timeout: 5_000, interval: 10 })
      .toEqual(['enviado', 'enviando', 'enviando', 'enviando', 'enviando']);
    proxy.cut();
    const sent = await rig.sim.waitForSent(5, 5_000);
    // Away past the claim lease (1 s): a sender that dropped the batch's records would resend them.
    await new Promise((r) => setTimeout(r, 1_500));
    proxy.restore();
    await expect
      .poll(
        async () =>
          (await withClient((c) => c.query(`SELECT estado, wamid FROM router_outbox ORDER BY wamid COLLATE "C"`))).rows,
        { timeout: 10_000, interval: 50 },
      )
      .toEqual(
        sent
          .map((s) => s.wamid)
          .sort()
          .map((wamid) => ({ estado: 'enviado', wamid })),
      );
    // The messages carry their wamids too (the same record statement wrote them).
    const withWamid = await withClient((c) =>
      c.query(`SELECT count(*)::int AS n FROM mensajes m JOIN router_outbox o ON o.mensaje_id = m.id
                WHERE m.whatsapp_message_id = o.wamid`),
    );
    expect(withWamid.rows[0].n).toBe(5);
    await rig.settle();
    expect(rig.sim.sent).toHaveLength(5);
  });
});
