import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  adReferral,
  allMessageTypes,
  contact,
  entry,
  envelope,
  envelopeOfEntries,
  imageMessage,
  inboundEnvelope,
  messagesChange,
  metaError,
  reactionMessage,
  replyContext,
  statusItem,
  textMessage,
  CUSTOMER_PHONE,
  CUSTOMER_USER_ID,
  PHONE_NUMBER_ID,
} from '../fixtures/whatsapp/builders.js';
import { resetDatabase, truncateData, withClient } from '../helpers/reset-db.js';
import { startRouter, type RunningRouter, readJson } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

const rows = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  withClient(async (c) => (await c.query<T>(sql, params)).rows);

/** An outbound row as the sender records it, so statuses have something to move. */
async function insertOutbound(wamid: string, estado = 'enviado'): Promise<void> {
  await withClient(async (c) => {
    const contact = await c.query<{ id: string }>(
      `INSERT INTO contactos (telefono) VALUES ($1) ON CONFLICT (telefono) DO UPDATE SET telefono = excluded.telefono RETURNING id`,
      [`+${CUSTOMER_PHONE}`],
    );
    const conv = await c.query<{ id: string }>(
      `INSERT INTO conversaciones (contacto_id, telefono, linea_origen) VALUES ($1, $2, $3)
       ON CONFLICT (contacto_id, linea_origen) DO UPDATE SET telefono = excluded.telefono RETURNING id`,
      [contact.rows[0]!.id, `+${CUSTOMER_PHONE}`, PHONE_NUMBER_ID],
    );
    await c.query(
      `INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, whatsapp_message_id, estado_envio)
       VALUES ($1, 'menú', 'interactive', 'saliente', 'bot', $2, $3)`,
      [conv.rows[0]!.id, wamid, estado],
    );
  });
}

describe('message storage', () => {
  let router: RunningRouter;

  beforeAll(async () => {
    await resetDatabase();
    router = await startRouter(testConfig());
  });
  afterAll(async () => {
    await router.stop();
  });
  beforeEach(async () => {
    await truncateData();
  });

  it('when every WhatsApp message type arrives in a signed envelope, then each is stored once with its tipo, text and media id', async () => {
    const samples = allMessageTypes();
    for (const s of samples) {
      const res = await router.postWebhook(inboundEnvelope(s.message));
      expect(res.status, s.rawType).toBe(200);
    }
    await router.idle();
    const stored = await rows<{ whatsapp_message_id: string; tipo: string; mensaje: string | null; media_id: string | null; direccion: string; remitente_tipo: string }>(
      `SELECT whatsapp_message_id, tipo, mensaje, media_id, direccion, remitente_tipo FROM mensajes WHERE direccion = 'entrante'`,
    );
    expect(stored).toHaveLength(samples.length);
    for (const s of samples) {
      const row = stored.find((r) => r.whatsapp_message_id === s.message.id);
      expect(row, s.rawType).toEqual({
        whatsapp_message_id: s.message.id,
        tipo: s.tipo,
        mensaje: s.text,
        media_id: s.mediaId,
        direccion: 'entrante',
        remitente_tipo: 'contacto',
      });
    }
    const conv = await rows<{ mensajes_no_leidos: number; n: number }>('SELECT mensajes_no_leidos, (SELECT count(*)::int FROM conversaciones) AS n FROM conversaciones');
    expect(conv).toEqual([{ mensajes_no_leidos: samples.length, n: 1 }]);
  });

  it('when a reply with context and an ad referral arrives, then the context id, the referral and the 72 h window are kept', async () => {
    const ts = 1_780_000_000;
    const m = imageMessage({
      timestamp: ts,
      caption: 'esta promo',
      context: replyContext({ messageId: 'wamid.ORIGINAL', from: '15550783881' }),
      referral: adReferral({ ctwaClid: 'CLID-123', sourceId: 'AD-42' }),
    });
    expect((await router.postWebhook(inboundEnvelope(m))).status).toBe(200);
    await router.idle();
    const [msg] = await rows<{ whatsapp_context_id: string; media_type: string; metadata: { referral: { ctwaClid: string } } }>(
      `SELECT whatsapp_context_id, media_type, metadata FROM mensajes WHERE direccion = 'entrante'`,
    );
    expect(msg?.whatsapp_context_id).toBe('wamid.ORIGINAL');
    expect(msg?.media_type).toBe('image/jpeg');
    expect(msg?.metadata.referral.ctwaClid).toBe('CLID-123');
    const [conv] = await rows<{ v24: string; v72: string; metadata: { referral: { ctwaClid: string; sourceId: string; sourceType: string } } }>(
      `SELECT extract(epoch FROM ventana_24h_fin)::bigint::text AS v24, extract(epoch FROM ventana_72h_fin)::bigint::text AS v72, metadata FROM conversaciones`,
    );
    expect(conv?.v24).toBe(String(ts + 24 * 3600));
    expect(conv?.v72).toBe(String(ts + 72 * 3600));
    expect(conv?.metadata.referral).toMatchObject({ ctwaClid: 'CLID-123', sourceId: 'AD-42', sourceType: 'ad' });
  });

  it('when a customer writes, then ultimo_mensaje, ts_ultimo_mensaje, mensajes_no_leidos and the 24 h window roll forward', async () => {
    await router.postWebhook(inboundEnvelope(textMessage({ body: 'primero', timestamp: 1_780_000_000 })));
    await router.postWebhook(inboundEnvelope(textMessage({ body: 'segundo', timestamp: 1_780_000_600 })));
    await router.idle();
    const [conv] = await rows<{ ultimo_mensaje: string; ts: string; mensajes_no_leidos: number; v24: string; v72: string | null }>(
      `SELECT ultimo_mensaje, extract(epoch FROM ts_ultimo_mensaje)::bigint::text AS ts, mensajes_no_leidos,
              extract(epoch FROM ventana_24h_fin)::bigint::text AS v24, ventana_72h_fin AS v72 FROM conversaciones`,
    );
    expect(conv).toEqual({ ultimo_mensaje: 'segundo', ts: '1780000600', mensajes_no_leidos: 2, v24: String(1_780_000_600 + 86_400), v72: null });
  });

  it('when a batch holds 3 entries × 2 changes × 5 messages plus statuses, then all 30 messages are stored and all statuses applied', async () => {
    const outbound = ['wamid.OUT-1', 'wamid.OUT-2', 'wamid.OUT-3'];
    for (const w of outbound) await insertOutbound(w);
    const ids: string[] = [];
    const entries = [0, 1, 2].map((e) =>
      entry(
        [0, 1].map((c) => {
          const phone = `54911555${e}${c}000`;
          const messages = [0, 1, 2, 3, 4].map((i) => textMessage({ from: phone, body: `m${e}${c}${i}`, timestamp: 1_780_000_000 + i }));
          ids.push(...messages.map((m) => m.id));
          const statuses = e === 0 && c === 0 ? outbound.map((id) => statusItem({ id, status: 'delivered' })) : [];
          return messagesChange({ contacts: [contact({ waId: phone, name: `Cliente ${e}${c}` })], messages, statuses });
        }),
        `WABA-${e}`,
      ),
    );
    const res = await router.postWebhook(envelopeOfEntries(...entries));
    expect(res.status).toBe(200);
    expect(await readJson(res)).toMatchObject({ received: 33, stored: 33, duplicates: 0 });
    await router.idle();
    const stored = await rows<{ whatsapp_message_id: string }>(`SELECT whatsapp_message_id FROM mensajes WHERE direccion = 'entrante'`);
    expect(stored.map((r) => r.whatsapp_message_id).sort()).toEqual([...ids].sort());
    const convs = await rows<{ telefono: string; mensajes_no_leidos: number; ultimo_mensaje: string }>('SELECT telefono, mensajes_no_leidos, ultimo_mensaje FROM conversaciones WHERE mensajes_no_leidos > 0 ORDER BY telefono');
    expect(convs).toHaveLength(6);
    for (const c of convs) expect(c.mensajes_no_leidos).toBe(5);
    const statuses = await rows<{ estado_envio: string }>(`SELECT estado_envio FROM mensajes WHERE whatsapp_message_id = ANY($1)`, [outbound]);
    expect(statuses.map((s) => s.estado_envio)).toEqual(['entregado', 'entregado', 'entregado']);
  });

  it('when statuses arrive out of order, then estado_envio only moves forward and a failure keeps Meta\'s error', async () => {
    await insertOutbound('wamid.A');
    await insertOutbound('wamid.B');
    await router.postWebhook(envelope(messagesChange({ statuses: [statusItem({ id: 'wamid.A', status: 'read', timestamp: 1_780_000_010 })] })));
    await router.idle();
    await router.postWebhook(
      envelope(messagesChange({ statuses: [statusItem({ id: 'wamid.A', status: 'delivered', timestamp: 1_780_000_005 }), statusItem({ id: 'wamid.A', status: 'sent', timestamp: 1_780_000_001 })] })),
    );
    await router.postWebhook(
      envelope(messagesChange({ statuses: [statusItem({ id: 'wamid.B', status: 'failed', errors: [metaError({ code: 131047, title: 'Re-engagement message' })] })] })),
    );
    await router.idle();
    const got = await rows<{ whatsapp_message_id: string; estado_envio: string; error_codigo: number | null; error_texto: string | null }>(
      `SELECT whatsapp_message_id, estado_envio, error_codigo, error_texto FROM mensajes WHERE whatsapp_message_id IN ('wamid.A', 'wamid.B') ORDER BY whatsapp_message_id`,
    );
    expect(got).toEqual([
      { whatsapp_message_id: 'wamid.A', estado_envio: 'leido', error_codigo: null, error_texto: null },
      { whatsapp_message_id: 'wamid.B', estado_envio: 'fallido', error_codigo: 131047, error_texto: 'Re-engagement message' },
    ]);
  });

  it('when one batch carries sent, read and delivered for the same message, then it ends read with all three times kept', async () => {
    await insertOutbound('wamid.BATCH', 'pendiente');
    await router.postWebhook(
      envelope(
        messagesChange({
          statuses: [
            statusItem({ id: 'wamid.BATCH', status: 'sent', timestamp: 1_780_000_001 }),
            statusItem({ id: 'wamid.BATCH', status: 'read', timestamp: 1_780_000_009 }),
            statusItem({ id: 'wamid.BATCH', status: 'delivered', timestamp: 1_780_000_005 }),
          ],
        }),
      ),
    );
    await router.idle();
    const [row] = await rows<{ estado_envio: string; estados: Record<string, string> }>(
      `SELECT estado_envio, metadata->'estados' AS estados FROM mensajes WHERE whatsapp_message_id = 'wamid.BATCH'`,
    );
    expect(row?.estado_envio).toBe('leido');
    expect(Object.keys(row?.estados ?? {}).sort()).toEqual(['delivered', 'read', 'sent']);
  });

  it('when delivered and read race in parallel requests, then the message ends read', async () => {
    await insertOutbound('wamid.RACE');
    const posts = [];
    for (let i = 0; i < 10; i++) {
      posts.push(router.postWebhook(envelope(messagesChange({ statuses: [statusItem({ id: 'wamid.RACE', status: i % 2 ? 'read' : 'delivered' })] }))));
    }
    expect((await Promise.all(posts)).map((r) => r.status)).toEqual(Array(10).fill(200));
    await router.idle();
    expect(await rows(`SELECT estado_envio FROM mensajes WHERE whatsapp_message_id = 'wamid.RACE'`)).toEqual([{ estado_envio: 'leido' }]);
  });

  it('when a status arrives for a message not stored yet, then it is parked as an orphan, not lost', async () => {
    await router.postWebhook(envelope(messagesChange({ statuses: [statusItem({ id: 'wamid.UNKNOWN', status: 'delivered' })] })));
    await router.idle();
    expect(await rows(`SELECT estado, wamid FROM router_eventos`)).toEqual([{ estado: 'huerfano', wamid: 'wamid.UNKNOWN' }]);
  });

  it('when a reaction is removed, then both the reaction and the un-reaction are stored against the reacted message', async () => {
    await router.postWebhook(inboundEnvelope(reactionMessage({ messageId: 'wamid.TARGET', emoji: '👍' })));
    await router.postWebhook(inboundEnvelope(reactionMessage({ messageId: 'wamid.TARGET', emoji: null })));
    await router.idle();
    const got = await rows<{ tipo: string; mensaje: string | null; whatsapp_context_id: string }>(
      `SELECT tipo, mensaje, whatsapp_context_id FROM mensajes WHERE direccion = 'entrante' ORDER BY created_at`,
    );
    expect(got).toEqual([
      { tipo: 'reaction', mensaje: '👍', whatsapp_context_id: 'wamid.TARGET' },
      { tipo: 'reaction', mensaje: null, whatsapp_context_id: 'wamid.TARGET' },
    ]);
  });

  it('when a username-only customer writes (no phone, business-scoped user id), then a contact keyed on the user id is created and reused', async () => {
    const m1 = textMessage({ from: null, fromUserId: CUSTOMER_USER_ID, body: 'hola' });
    const m2 = textMessage({ from: null, fromUserId: CUSTOMER_USER_ID, body: 'sigo acá' });
    await router.postWebhook(inboundEnvelope(m1, { username: 'lucia.f' }));
    await router.postWebhook(inboundEnvelope(m2, { username: 'lucia.f' }));
    await router.idle();
    const contacts = await rows(`SELECT telefono, wa_user_id, username FROM contactos`);
    expect(contacts).toEqual([{ telefono: null, wa_user_id: CUSTOMER_USER_ID, username: 'lucia.f' }]);
    expect(await rows(`SELECT count(*)::int AS n, sum(mensajes_no_leidos)::int AS unread FROM conversaciones`)).toEqual([{ n: 1, unread: 2 }]);
  });

  it('when Meta reports top-level errors or another webhook field, then the batch is accepted and the events kept for audit', async () => {
    const res = await router.postWebhook(
      envelope(
        messagesChange({ errors: [metaError({ code: 131000, title: 'Something went wrong' })] }),
        { field: 'message_template_status_update', value: { event: 'APPROVED', message_template_id: 1 } },
      ),
    );
    expect(res.status).toBe(200);
    expect(await rows(`SELECT tipo, estado FROM router_eventos ORDER BY tipo`)).toEqual([
      { tipo: 'error', estado: 'hecho' },
      { tipo: 'other', estado: 'hecho' },
    ]);
  });
});
