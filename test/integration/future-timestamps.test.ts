import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

const YEAR_2100 = 4_102_444_800;
const DAY_MS = 86_400_000;

describe('a WhatsApp timestamp in the future', () => {
  let router: RunningRouter;

  beforeAll(async () => {
    await resetDatabase();
    router = await startRouter(testConfig(), { sender: false });
  });
  afterAll(async () => {
    await router.stop();
  });

  /** A conversation an agent has (derived): nothing is answered, so the preview is the customer's own. */
  const derivedConversation = async (phone: string) => {
    await router.postWebhook(
      inboundEnvelope(textMessage({ from: phone, body: 'primero', timestamp: Math.floor(Date.now() / 1000) - 60 })),
    );
    await router.idle();
    // Its menu reply (stored at now()) is put back a minute too, so the next second's message is the newest.
    await withClient(async (c) => {
      await c.query(
        `UPDATE mensajes SET "timestamp" = now() - interval '1 minute' WHERE direccion = 'saliente' AND conversacion_id IN (SELECT id FROM conversaciones WHERE telefono = $1)`,
        [`+${phone}`],
      );
      await c.query(
        `UPDATE conversaciones SET estado = 'derivada', router_estado = 'derivado', area = 'ventas', ts_ultimo_mensaje = now() - interval '1 minute' WHERE telefono = $1`,
        [`+${phone}`],
      );
    });
  };
  const conversation = (phone: string) =>
    withClient(
      async (c) =>
        (
          await c.query(
            `SELECT ultimo_mensaje, ts_ultimo_mensaje, ventana_24h_inicio, ventana_24h_fin FROM conversaciones WHERE telefono = $1`,
            [`+${phone}`],
          )
        ).rows[0],
    );

  it('when a message dated 2100 arrives, then the receive time orders it, rolls the window and the preview, and Meta’s value stays in the event', async () => {
    const phone = '5491177770001';
    await derivedConversation(phone);
    const before = Date.now();
    const future = textMessage({ from: phone, body: 'desde el futuro', timestamp: YEAR_2100 });
    expect((await router.postWebhook(inboundEnvelope(future))).status).toBe(200);
    await router.idle();
    const after = Date.now();

    const conv = await conversation(phone);
    expect(conv.ultimo_mensaje).toBe('desde el futuro');
    const ts = new Date(conv.ts_ultimo_mensaje).getTime();
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(after);
    expect(new Date(conv.ventana_24h_fin).getTime()).toBe(ts + DAY_MS);

    const [row] = await withClient(
      async (c) =>
        (
          await c.query(
            `SELECT m."timestamp", m.metadata->>'metaTimestamp' AS meta_in_message, e.wa_ts, e.payload->>'metaTimestamp' AS meta_in_event
         FROM mensajes m JOIN router_eventos e ON e.wamid = m.whatsapp_message_id WHERE m.whatsapp_message_id = $1`,
            [future.id],
          )
        ).rows,
    );
    expect(new Date(row.timestamp).getTime()).toBe(ts);
    expect(new Date(row.wa_ts).getTime()).toBe(ts);
    expect(Number(row.meta_in_event)).toBe(YEAR_2100);
    expect(Number(row.meta_in_message)).toBe(YEAR_2100);

    // A normal message a second later still moves the preview and the window.
    const next = textMessage({ from: phone, body: 'un segundo después', timestamp: Math.floor(ts / 1000) + 1 });
    expect((await router.postWebhook(inboundEnvelope(next))).status).toBe(200);
    await router.idle();
    const later = await conversation(phone);
    expect(later.ultimo_mensaje).toBe('un segundo después');
    expect(new Date(later.ts_ultimo_mensaje).getTime()).toBeGreaterThanOrEqual(ts);
    expect(new Date(later.ventana_24h_fin).getTime()).toBeLessThanOrEqual(Date.now() + DAY_MS);
  });

  it('when a future message and one a second later arrive in one batch, then both take the receive time, keep batch order and the last one is the preview', async () => {
    const phone = '5491177770002';
    await derivedConversation(phone);
    const now = Math.floor(Date.now() / 1000);
    const future = textMessage({ from: phone, body: 'adelantado', timestamp: now + 3_600 });
    // A second after the first, so both are ahead of the receive time whatever the millisecond is now
    // (now + 1 would be behind it when the clock turns a second between here and the post).
    const normal = textMessage({ from: phone, body: 'normal', timestamp: now + 3_601 });
    expect((await router.postWebhook(inboundEnvelope([future, normal]))).status).toBe(200);
    await router.idle();
    expect((await conversation(phone)).ultimo_mensaje).toBe('normal');
    const order = await withClient(async (c) =>
      (
        await c.query(
          `SELECT mensaje FROM mensajes WHERE conversacion_id IN (SELECT id FROM conversaciones WHERE telefono = $1) AND direccion = 'entrante' ORDER BY "timestamp", created_at`,
          [`+${phone}`],
        )
      ).rows.map((r) => r.mensaje),
    );
    expect(order).toEqual(['primero', 'adelantado', 'normal']);
  });

  it('when a new customer’s first message is dated 2100, then the menu the router stores for it is not dated in the future either', async () => {
    const phone = '5491177770003';
    expect(
      (await router.postWebhook(inboundEnvelope(textMessage({ from: phone, body: 'hola', timestamp: YEAR_2100 }))))
        .status,
    ).toBe(200);
    await router.idle();
    const rows = await withClient(
      async (c) =>
        (
          await c.query(
            `SELECT direccion, "timestamp" FROM mensajes WHERE conversacion_id IN (SELECT id FROM conversaciones WHERE telefono = $1)`,
            [`+${phone}`],
          )
        ).rows,
    );
    expect(rows.map((r) => r.direccion).sort()).toEqual(['entrante', 'saliente']);
    for (const r of rows) expect(new Date(r.timestamp).getTime()).toBeLessThanOrEqual(Date.now());
    const conv = await conversation(phone);
    expect(new Date(conv.ts_ultimo_mensaje).getTime()).toBeLessThanOrEqual(Date.now());
    expect(new Date(conv.ventana_24h_fin).getTime()).toBeLessThanOrEqual(Date.now() + DAY_MS);
  });
});
