import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  contact,
  envelope,
  inboundEnvelope,
  messagesChange,
  reactionMessage,
  textMessage,
} from '../fixtures/whatsapp/builders.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { startRouter, type RunningRouter, readJson } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

const snapshot = () =>
  withClient(async (c) => ({
    mensajes: (
      await c.query('SELECT id, direccion, whatsapp_message_id, mensaje, estado_envio FROM mensajes ORDER BY id')
    ).rows,
    reacciones: (await c.query('SELECT id, mensaje_id, emoji, created_at FROM mensaje_reacciones ORDER BY id')).rows,
    outbox: (await c.query('SELECT id, estado FROM router_outbox ORDER BY id')).rows,
    conversaciones: (
      await c.query(
        'SELECT id, mensajes_no_leidos, ultimo_mensaje, ts_ultimo_mensaje, ventana_24h_fin, updated_at FROM conversaciones ORDER BY id',
      )
    ).rows,
    contactos: (await c.query('SELECT id, telefono, nombre, updated_at FROM contactos ORDER BY id')).rows,
  }));

describe('idempotency by wamid', () => {
  let router: RunningRouter;

  beforeAll(async () => {
    await resetDatabase();
    router = await startRouter(testConfig({ DB_POOL_MAX: '20' }), { sender: false });
  });
  afterAll(async () => {
    await router.stop();
  });

  it('when 20 POSTs of the same wamid arrive in parallel, then one message row exists and it was counted once', async () => {
    const body = inboundEnvelope(textMessage({ body: 'una sola vez' }));
    const responses = await Promise.all(Array.from({ length: 20 }, () => router.postWebhook(body)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { stored: number }[];
    const stored = bodies.reduce((n, b) => n + b.stored, 0);
    expect(stored).toBe(1);
    await router.idle();
    const snap = await snapshot();
    // One inbound row, and it was answered once (one stored menu reply, one in the outbox).
    expect(snap.mensajes.filter((m: { direccion: string }) => m.direccion === 'entrante')).toHaveLength(1);
    expect(snap.mensajes.filter((m: { direccion: string }) => m.direccion === 'saliente')).toHaveLength(1);
    expect(snap.outbox).toHaveLength(1);
    expect(snap.conversaciones).toHaveLength(1);
    expect(snap.conversaciones[0].mensajes_no_leidos).toBe(1);
  });

  it('when one batch repeats a wamid, then it is stored once', async () => {
    const m = textMessage({ body: 'repetido en el lote' });
    const res = await router.postWebhook(envelope(messagesChange({ contacts: [contact()], messages: [m, m, m] })));
    expect(await readJson(res)).toMatchObject({ received: 3, stored: 1, duplicates: 2 });
    await router.idle();
    const n = await withClient((c) =>
      c.query('SELECT count(*)::int AS n FROM mensajes WHERE whatsapp_message_id = $1', [m.id]),
    );
    expect(n.rows[0].n).toBe(1);
  });

  it('when a wamid is delivered again after a restart, then nothing changes', async () => {
    const body = inboundEnvelope(textMessage({ body: 'antes del reinicio' }));
    await router.postWebhook(body);
    await router.idle();
    const before = await snapshot();

    await router.stop();
    router = await startRouter(testConfig(), { sender: false });
    const res = await router.postWebhook(body);
    expect(res.status).toBe(200);
    expect(await readJson(res)).toMatchObject({ stored: 0, duplicates: 1 });
    await router.idle();
    expect(await snapshot()).toEqual(before);
  });

  it('when the journal row was pruned and Meta redelivers, then the context query still changes nothing', async () => {
    const body = inboundEnvelope(textMessage({ body: 'redelivery after prune' }));
    await router.postWebhook(body);
    await router.idle();
    const before = await snapshot();
    await withClient((c) => c.query(`DELETE FROM router_eventos`));
    expect((await router.postWebhook(body)).status).toBe(200);
    await router.idle();
    expect(await snapshot()).toEqual(before);
  });

  it('when the router has started, then the partial unique index on wamids guards mensajes: a repeated wamid is refused, empty and missing ones are not', async () => {
    const index = await withClient((c) =>
      c.query(`SELECT indexdef FROM pg_indexes WHERE tablename = 'mensajes' AND indexname = 'mensajes_wamid_unico'`),
    );
    expect(index.rows).toHaveLength(1);
    expect(index.rows[0].indexdef).toMatch(
      /^CREATE UNIQUE INDEX mensajes_wamid_unico ON public\.mensajes USING btree \(whatsapp_message_id\) WHERE \(\(whatsapp_message_id IS NOT NULL\) AND \(whatsapp_message_id <> ''::text\)\)$/,
    );
    await withClient(async (c) => {
      const conv = (await c.query(`SELECT id FROM conversaciones LIMIT 1`)).rows[0].id as string;
      const stored = (await c.query(`SELECT whatsapp_message_id FROM mensajes WHERE direccion = 'entrante' LIMIT 1`))
        .rows[0].whatsapp_message_id as string;
      const insert = (wamid: string | null) =>
        c.query(
          `INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, whatsapp_message_id) VALUES ($1, 'x', 'text', 'saliente', $2)`,
          [conv, wamid],
        );
      await c.query('BEGIN');
      try {
        await c.query('SAVEPOINT dup');
        await expect(insert(stored)).rejects.toMatchObject({ code: '23505', constraint: 'mensajes_wamid_unico' });
        await c.query('ROLLBACK TO SAVEPOINT dup');
        // The CRM's own rows (and the old router's) may carry '' or no wamid, any number of times.
        for (const wamid of ['', '', null, null]) await insert(wamid);
      } finally {
        await c.query('ROLLBACK');
      }
    });
  });

  it("when a reaction is redelivered after the journal forgot it, then the contact's one reaction row is unchanged", async () => {
    const target = textMessage({ body: 'para reaccionar' });
    await router.postWebhook(inboundEnvelope(target));
    await router.idle();
    const body = inboundEnvelope(reactionMessage({ messageId: target.id, emoji: '🎉' }));
    await router.postWebhook(body);
    await router.idle();
    const before = await snapshot();
    expect(before.reacciones.filter((r: { emoji: string }) => r.emoji === '🎉')).toHaveLength(1);
    await withClient((c) => c.query(`DELETE FROM router_eventos`));
    expect((await router.postWebhook(body)).status).toBe(200);
    await router.idle();
    expect(await snapshot()).toEqual(before);
  });
});
