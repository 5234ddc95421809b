import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTEXT_SQL,
  DEFAULT_CONTEXT_OPTIONS,
  contextParams,
  loadConversationContext,
} from '../../src/store/context-query.js';
import { appendToJournal } from '../../src/store/journal-repository.js';
import { completeEvent } from '../../src/store/processing-repository.js';
import { readSchemaProfile } from '../../src/store/schema-profile.js';
import { parseWebhookBody } from '../../src/webhook/parse-events.js';
import {
  bodyOf,
  contact,
  envelope,
  inboundEnvelope,
  messagesChange,
  textMessage,
  PHONE_NUMBER_ID,
} from '../fixtures/whatsapp/builders.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

describe('the one-query context', () => {
  let router: RunningRouter;

  beforeAll(async () => {
    await resetDatabase();
    // No sweeper: every statement counted below is one the message itself cost.
    router = await startRouter(testConfig(), { sweeper: false, sender: false });
    await router.runtime.catalog.get(); // cached for CATALOG_TTL_MS: not a per-message cost
  });
  afterAll(async () => {
    await router.stop();
  });

  const statementsFor = async (body: unknown) => {
    await router.idle();
    const before = router.runtime.db.statementCount();
    expect((await router.postWebhook(body)).status).toBe(200);
    await router.idle();
    return router.runtime.db.statementCount() - before;
  };

  it('when a first message arrives, then it costs 3 round trips: journal insert, context query, completion', async () => {
    expect(await statementsFor(inboundEnvelope(textMessage({ from: '5491180000001', body: 'hola' })))).toBe(3);
  });

  it('when a known customer writes again, then it still costs 3 round trips', async () => {
    expect(await statementsFor(inboundEnvelope(textMessage({ from: '5491180000001', body: 'otra vez' })))).toBe(3);
  });

  it('when a batch carries 5 messages of 5 customers, then their contexts and completions share statements', async () => {
    const phones = [2, 3, 4, 5, 6].map((i) => `549118000000${i}`);
    const body = envelope(
      messagesChange({
        contacts: phones.map((p) => contact({ waId: p })),
        messages: phones.map((p) => textMessage({ from: p })),
      }),
    );
    // The journal insert; the first two conversations' contexts go out at once (two context
    // statements run at a time), the three that became ready meanwhile share the next one; the
    // completions likewise, though when each handler finishes decides how many share (3 or 4).
    // Without batching it was 1 + 2 × 5.
    const statements = await statementsFor(body);
    expect(statements).toBeGreaterThanOrEqual(1 + 3 + 3);
    expect(statements).toBeLessThanOrEqual(1 + 3 + 4);
  });

  it('when the context query runs, then it returns the conversation, the new message and the previous 10 messages newest first', async () => {
    const phone = '5491180000099';
    const t0 = Math.floor(Date.now() / 1000) - 600;
    for (let i = 0; i < 12; i++)
      await router.postWebhook(inboundEnvelope(textMessage({ from: phone, body: `m${i}`, timestamp: t0 + i })));
    await router.idle();
    // Journal m12 without telling the processor (no sweeper runs), then run the statement as a worker would.
    const [event] = parseWebhookBody(
      bodyOf(inboundEnvelope(textMessage({ from: phone, body: 'm12', timestamp: t0 + 12 }))),
    );
    await appendToJournal(router.runtime.db, [event!], 'test');
    const convKey = `${PHONE_NUMBER_ID}:${phone}`;
    const ctx = await loadConversationContext(router.runtime.db, convKey, 'test-owner', 10_000);
    expect(ctx.status).toBe('event');
    if (ctx.status !== 'event') return;
    expect(ctx.event.text).toBe('m12');
    expect(ctx.duplicate).toBe(false);
    expect(ctx.created).toBe(false);
    expect(ctx.line).toBe('wsp4');
    expect(ctx.conversation).toMatchObject({ telefono: `+${phone}`, linea_origen: 'wsp4', mensajes_no_leidos: 13 });
    // The returned row is the one just written, and its stored message id is the row of m12.
    const [stored] = await withClient(
      async (c) => (await c.query(`SELECT id, conversacion_id FROM mensajes WHERE mensaje = 'm12'`)).rows,
    );
    expect(ctx.messageId).toBe(stored.id);
    expect(ctx.conversation.id).toBe(stored.conversacion_id);
    // ventana_24h_fin before this message rolled it: m11's window.
    expect(Date.parse(ctx.previousWindowEnd!)).toBe((t0 + 11 + 86_400) * 1000);
    expect(Date.parse(ctx.conversation.ventana_24h_fin!)).toBe((t0 + 12 + 86_400) * 1000);
    // Newest first: exactly the conversation's 10 newest rows before m12 (the router's stored replies,
    // stamped when decided, are newer than these back-dated messages), m12 itself not among them.
    expect(ctx.recent).toHaveLength(10);
    const newest = await withClient(
      async (c) =>
        (
          await c.query(
            `SELECT id FROM mensajes WHERE conversacion_id = $1 AND id <> $2 ORDER BY "timestamp" DESC LIMIT 10`,
            [stored.conversacion_id, stored.id],
          )
        ).rows,
    );
    expect(ctx.recent.map((m) => m.id)).toEqual(newest.map((r: { id: string }) => r.id));
    const times = ctx.recent.map((m) => Date.parse(m.timestamp));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const inbound = ctx.recent.filter((m) => m.direccion === 'entrante').map((m) => m.mensaje);
    expect(inbound).toEqual(['m11', 'm10', 'm9', 'm8', 'm7', 'm6', 'm5', 'm4', 'm3', 'm2'].slice(0, inbound.length));
    // The stored replies are the bot's, as the CRM shows them.
    for (const m of ctx.recent.filter((r) => r.direccion === 'saliente')) expect(m.remitente_tipo).toBe('bot');
    // Another worker cannot take the conversation while the lease is held.
    expect((await loadConversationContext(router.runtime.db, convKey, 'other-owner', 10_000)).status).toBe(
      'not_leased',
    );
    const done = await completeEvent(
      router.runtime.db,
      { eventId: ctx.eventId, convKey, owner: 'test-owner' },
      await readSchemaProfile(router.runtime.db),
    );
    expect(done).toEqual({ committed: true, more: false });
    expect((await loadConversationContext(router.runtime.db, convKey, 'other-owner', 10_000)).status).toBe('empty');
  });

  it('when the tables hold thousands of rows, then EXPLAIN shows the context query on indexes, not sequential scans', async () => {
    await withClient(async (c) => {
      await c.query(`
        INSERT INTO contactos (telefono) SELECT '+54900' || g FROM generate_series(1, 3000) g;
        INSERT INTO conversaciones (contacto_id, telefono, linea_origen)
          SELECT id, telefono, 'wsp4' FROM contactos WHERE telefono LIKE '+54900%';
        INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, whatsapp_message_id, "timestamp")
          SELECT cv.id, 'x', 'text', 'entrante', 'contacto', 'wamid.BULK' || cv.telefono || '.' || g, now() - g * interval '1 minute'
            FROM conversaciones cv, generate_series(1, 10) g WHERE cv.telefono LIKE '+54900%';
        INSERT INTO mensaje_reacciones (mensaje_id, usuario_id, emoji)
          SELECT id, NULL, '👍' FROM mensajes WHERE whatsapp_message_id LIKE 'wamid.BULK%' AND whatsapp_message_id LIKE '%.1';
        INSERT INTO router_eventos (clave, tipo, conv_key, wamid, linea, wa_ts, estado, payload)
          SELECT 'm:bulk' || g, 'message', '${PHONE_NUMBER_ID}:54900' || g, 'wamid.bulk' || g, '${PHONE_NUMBER_ID}', now(), 'hecho', '{}'::jsonb
            FROM generate_series(1, 30000) g;
        ANALYZE;`);
      await c.query(
        `INSERT INTO router_eventos (clave, tipo, conv_key, wamid, linea, wa_ts, payload)
        VALUES ('m:explain', 'message', $1, 'wamid.EXPLAIN', $2, now(), $3::jsonb)`,
        [
          `${PHONE_NUMBER_ID}:54900777`,
          PHONE_NUMBER_ID,
          JSON.stringify({
            kind: 'message',
            from: '54900777',
            type: 'text',
            text: 'x',
            line: { phoneNumberId: PHONE_NUMBER_ID },
            timestamp: 1,
          }),
        ],
      );
      const params = contextParams(
        `${PHONE_NUMBER_ID}:54900777`,
        'explain-owner',
        10_000,
        10_000,
        DEFAULT_CONTEXT_OPTIONS,
      );
      expect(params).toHaveLength(7);
      const plan = await c.query(`EXPLAIN (FORMAT TEXT) ${CONTEXT_SQL}`, params);
      const text = plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
      expect(text).not.toMatch(/Seq Scan on (router_eventos|mensajes|contactos|conversaciones|mensaje_reacciones)\b/);
      expect(text).toMatch(/router_eventos_pendientes/);
      // Wamid lookups (duplicate check, quoted message, reaction target) by index; the conversation's
      // recent messages by (conversacion_id, timestamp); the contact by its unique phone.
      expect(text).toMatch(/Index (Only )?Scan using mensajes_(whatsapp_message_id|wamid_unico) on mensajes/);
      expect(text).toMatch(/mensajes_conversacion_timestamp/);
      expect(text).toMatch(/contactos_telefono_key/);
      expect(text).toMatch(/conversaciones_contacto_id/);
      expect(text).toMatch(/mensaje_reacciones_mensaje/);
      await c.query(`DELETE FROM router_eventos WHERE clave = 'm:explain'`);
    });
  });
});
