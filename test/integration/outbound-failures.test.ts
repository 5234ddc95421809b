import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { metaFailures } from '../../src/simulator/graph-simulator.js';
import {
  adReferral,
  envelope,
  inboundEnvelope,
  messagesChange,
  statusItem,
  textMessage,
} from '../fixtures/whatsapp/builders.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { startRoutingRig, type RoutingRig } from '../helpers/routing-bench.js';
import { readJson } from '../helpers/start-router.js';

let clock = Math.floor(Date.now() / 1000) - 60;

describe('outbound: Meta errors, outages and the circuit breaker', () => {
  let rig: RoutingRig;
  const q = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    withClient(async (c) => (await c.query<T>(sql, params)).rows);
  const hello = async (from: string) => {
    expect(
      (await rig.router.postWebhook(inboundEnvelope(textMessage({ from, body: 'hola', timestamp: (clock += 1) }))))
        .status,
    ).toBe(200);
    await rig.router.idle();
  };

  beforeAll(async () => {
    await resetDatabase();
    rig = await startRoutingRig({}, { statuses: false });
  });
  afterAll(async () => {
    await rig.close();
  });
  beforeEach(() => rig.reset());

  it('when Meta answers 130429 (throughput) twice, then the reply is retried with backoff and sent exactly once', async () => {
    rig.sim.script(metaFailures.rateLimitHit(), metaFailures.rateLimitHit());
    await hello('5491188880001');
    const [sent] = await rig.sim.waitForSent(1, 15_000);
    await rig.settle();
    expect(rig.sim.sent).toHaveLength(1);
    expect(rig.sim.requests.scripted_error).toBe(2);
    expect(await q('SELECT estado, intentos, wamid FROM router_outbox')).toEqual([
      { estado: 'enviado', intentos: 3, wamid: sent!.wamid },
    ]);
    // Meta's acceptance records the wamid only: the tick waits for Meta's own statuses, and the
    // retried attempts left no failure on the message.
    const reply = () =>
      q(
        `SELECT estado_envio, enviado, entregado, leido, fallido, error_mensaje, whatsapp_message_id, remitente_tipo FROM mensajes WHERE direccion = 'saliente'`,
      );
    const ticks = { estado_envio: null, enviado: false, entregado: false, leido: false, fallido: false };
    expect(await reply()).toEqual([
      { ...ticks, error_mensaje: null, whatsapp_message_id: sent!.wamid, remitente_tipo: 'bot' },
    ]);
    expect(
      (
        await rig.router.postWebhook(
          envelope(messagesChange({ statuses: [statusItem({ id: sent!.wamid, status: 'sent' })] })),
        )
      ).status,
    ).toBe(200);
    await rig.router.idle();
    expect(await reply()).toEqual([
      {
        ...ticks,
        estado_envio: 'sent',
        enviado: true,
        error_mensaje: null,
        whatsapp_message_id: sent!.wamid,
        remitente_tipo: 'bot',
      },
    ]);
  });

  it('when Meta answers 131047 (outside the 24 h window), then it is not retried and the message is fallido with the code', async () => {
    rig.sim.script(metaFailures.reEngagement());
    await hello('5491188880002');
    await rig.settle();
    expect(rig.sim.sent).toHaveLength(0);
    expect(rig.sim.requests.scripted_error).toBe(1);
    expect(await q('SELECT estado, intentos, error_codigo FROM router_outbox')).toEqual([
      { estado: 'fallido', intentos: 1, error_codigo: 131047 },
    ]);
    const [row] = await q<{ error_mensaje: string }>(
      `SELECT estado_envio, fallido, enviado, error_codigo, error_mensaje, whatsapp_message_id FROM mensajes WHERE direccion = 'saliente'`,
    );
    expect(row).toMatchObject({
      estado_envio: 'failed',
      fallido: true,
      enviado: false,
      error_codigo: 131047,
      whatsapp_message_id: null,
    });
    expect(row!.error_mensaje).toMatch(/131047/);
    expect(row!.error_mensaje).toMatch(/Re-engagement message/);
  });

  it('when Meta answers 131026 (undeliverable), then it is fallido at once', async () => {
    rig.sim.script(metaFailures.undeliverable());
    await hello('5491188880003');
    await rig.settle();
    expect(await q('SELECT estado, error_codigo FROM router_outbox')).toEqual([
      { estado: 'fallido', error_codigo: 131026 },
    ]);
    const [row] = await q<{ error_mensaje: string }>(
      `SELECT estado_envio, fallido, error_codigo, error_mensaje FROM mensajes WHERE direccion = 'saliente'`,
    );
    expect(row).toMatchObject({ estado_envio: 'failed', fallido: true, error_codigo: 131026 });
    expect(row!.error_mensaje).toMatch(/131026.*Message undeliverable/);
  });

  it('when the customer wrote more than 24 h ago, then no free-form reply is sent and the attempt is recorded as fallido', async () => {
    const old = Math.floor(Date.now() / 1000) - 25 * 3600;
    await rig.router.postWebhook(inboundEnvelope(textMessage({ from: '5491188880004', body: 'hola', timestamp: old })));
    await rig.settle();
    expect(rig.sim.sent).toHaveLength(0);
    const stored = await q<{ error_mensaje: string }>(
      `SELECT estado_envio, fallido, enviado, remitente_tipo, remitente_nombre, error_mensaje FROM mensajes WHERE direccion = 'saliente'`,
    );
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      estado_envio: 'failed',
      fallido: true,
      enviado: false,
      remitente_tipo: 'bot',
      remitente_nombre: 'Router WSP4',
    });
    expect(stored[0]!.error_mensaje).toMatch(/^outside_24h_window: /);
    expect(await q('SELECT count(*)::int AS n FROM router_outbox')).toEqual([{ n: 0 }]);
  });

  it('when an ad click is answered more than 24 h after it was written, then its 72 h window (pricing) does not allow a free-form reply', async () => {
    const old = Math.floor(Date.now() / 1000) - 25 * 3600;
    await rig.router.postWebhook(
      inboundEnvelope(textMessage({ from: '5491188880005', body: 'hola', timestamp: old, referral: adReferral() })),
    );
    await rig.settle();
    expect(rig.sim.sent).toHaveLength(0);
    expect(
      await q(`SELECT ventana_72h_fin > now() AS open72, ventana_24h_fin > now() AS open24 FROM conversaciones`),
    ).toEqual([{ open72: true, open24: false }]);
    expect(
      await q(
        `SELECT estado_envio, error_mensaje LIKE 'outside_24h_window:%' AS outside FROM mensajes WHERE direccion = 'saliente'`,
      ),
    ).toEqual([{ estado_envio: 'failed', outside: true }]);
  });

  it('when Graph is down, then the circuit opens, /ready says so, replies wait in the outbox and all go out once when it recovers', async () => {
    rig.sim.setDown(true);
    const customers = ['5491188880010', '5491188880011', '5491188880012', '5491188880013', '5491188880014'];
    for (const c of customers) await hello(c);
    await expect
      .poll(async () => (await readJson(await fetch(`${rig.router.url}/ready`))).issues, {
        timeout: 10_000,
        interval: 50,
      })
      .toContain('graph_circuit_open');
    expect(rig.sim.sent).toHaveLength(0);
    const waiting = await q<{ n: number }>(
      `SELECT count(*)::int AS n FROM router_outbox WHERE estado IN ('pendiente', 'enviando')`,
    );
    expect(waiting[0]!.n).toBe(customers.length);

    rig.sim.setDown(false);
    const sent = await rig.sim.waitForSent(customers.length, 30_000);
    await rig.settle();
    expect(sent.map((m) => m.to).sort()).toEqual([...customers].sort());
    expect(rig.sim.sent).toHaveLength(customers.length); // nothing sent twice
    expect(await q(`SELECT estado, count(*)::int AS n FROM router_outbox GROUP BY estado`)).toEqual([
      { estado: 'enviado', n: customers.length },
    ]);
    await expect
      .poll(async () => (await readJson(await fetch(`${rig.router.url}/ready`))).issues, {
        timeout: 10_000,
        interval: 50,
      })
      .not.toContain('graph_circuit_open');
  });

  it('when the inbox webhook fails twice with 500, then the notification is retried and delivered signed', async () => {
    await hello('5491188880020');
    await rig.settle();
    rig.inbox.failNext(500, 500);
    await rig.router.postWebhook(
      inboundEnvelope(textMessage({ from: '5491188880020', body: '1', timestamp: (clock += 1) })),
    );
    const [delivery] = await rig.inbox.waitFor(rig.inbox.deliveries.length + 1, 20_000);
    expect(delivery).toMatchObject({ event: 'derivation', signatureValid: true });
    await rig.settle(); // the receiver answered; let the sender record it
    expect(await q(`SELECT estado, intentos FROM router_outbox WHERE canal = 'inbox'`)).toEqual([
      { estado: 'enviado', intentos: 3 },
    ]);
  });
});
