import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  adReferral,
  allMessageTypes,
  audioMessage,
  contact,
  documentMessage,
  entry,
  envelope,
  envelopeOfEntries,
  imageMessage,
  inboundEnvelope,
  locationMessage,
  messagesChange,
  metaError,
  reactionMessage,
  replyContext,
  statusItem,
  stickerMessage,
  textMessage,
  CUSTOMER_NAME,
  CUSTOMER_PHONE,
  CUSTOMER_USER_ID,
  PHONE_NUMBER_ID,
  videoMessage,
} from '../fixtures/whatsapp/builders.js';
import { resetDatabase, truncateData, withClient } from '../helpers/reset-db.js';
import { startRouter, type RunningRouter, readJson } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

const rows = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  withClient(async (c) => (await c.query<T>(sql, params)).rows);

const epoch = (column: string, alias: string) => `extract(epoch FROM ${column})::bigint::int AS ${alias}`;
const nowS = () => Math.floor(Date.now() / 1000);

/**
 * An outbound row as the sender leaves it once Meta accepted it: the wamid is known, the ticks wait
 * for Meta's statuses (estado_envio NULL, every flag false).
 */
async function insertOutbound(wamid: string): Promise<void> {
  await withClient(async (c) => {
    const contacto = await c.query<{ id: string }>(
      `INSERT INTO contactos (telefono) VALUES ($1) ON CONFLICT (telefono) DO UPDATE SET telefono = excluded.telefono RETURNING id`,
      [`+${CUSTOMER_PHONE}`],
    );
    // The CRM's table has no unique key to upsert on: find the conversation, else create it.
    const found = await c.query<{ id: string }>(
      `SELECT id FROM conversaciones WHERE contacto_id = $1 AND linea_origen = 'wsp4' LIMIT 1`,
      [contacto.rows[0]!.id],
    );
    const convId =
      found.rows[0]?.id ??
      (
        await c.query<{ id: string }>(
          `INSERT INTO conversaciones (contacto_id, telefono, linea_origen) VALUES ($1, $2, 'wsp4') RETURNING id`,
          [contacto.rows[0]!.id, `+${CUSTOMER_PHONE}`],
        )
      ).rows[0]!.id;
    await c.query(
      `INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, whatsapp_message_id)
       VALUES ($1, 'menú', 'interactive', 'saliente', 'bot', $2)`,
      [convId, wamid],
    );
  });
}

type Ticks = {
  whatsapp_message_id: string;
  estado_envio: string | null;
  enviado: boolean;
  entregado: boolean;
  leido: boolean;
  fallido: boolean;
  error_codigo: number | null;
  error_mensaje: string | null;
};
const ticks = (wamids: string[]) =>
  rows<Ticks>(
    `SELECT whatsapp_message_id, estado_envio, enviado, entregado, leido, fallido, error_codigo, error_mensaje
       FROM mensajes WHERE whatsapp_message_id = ANY($1) ORDER BY whatsapp_message_id`,
    [wamids],
  );
/** The CRM's two readings of a tick agree (CH:880-884): estado_envio and the flags. */
const tick = (
  wamid: string,
  estado: 'sent' | 'delivered' | 'read' | 'failed' | null,
  error: { codigo: number; mensaje: string } | null = null,
): Ticks => ({
  whatsapp_message_id: wamid,
  estado_envio: estado,
  enviado: estado === 'sent' || estado === 'delivered' || estado === 'read',
  entregado: estado === 'delivered' || estado === 'read',
  leido: estado === 'read',
  fallido: estado === 'failed',
  error_codigo: error?.codigo ?? null,
  error_mensaje: error?.mensaje ?? null,
});

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

  it('when every WhatsApp message type arrives in a signed envelope, then each is one mensajes row as the CRM renders it and the reaction lands on its message', async () => {
    const samples = allMessageTypes();
    for (const s of samples) {
      const res = await router.postWebhook(inboundEnvelope(s.message));
      expect(res.status, s.rawType).toBe(200);
    }
    await router.idle();
    const stored = await rows<{ id: string; whatsapp_message_id: string }>(
      `SELECT id, whatsapp_message_id, tipo, mensaje, media_id, media_type, media_url, direccion, remitente_tipo, remitente_nombre,
              eliminado, ${epoch('"timestamp"', 'ts')}
         FROM mensajes WHERE direccion = 'entrante'`,
    );
    const asRows = samples.filter((s) => s.crm !== null);
    expect(asRows).toHaveLength(samples.length - 1);
    expect(stored).toHaveLength(asRows.length);
    for (const s of asRows) {
      const row = stored.find((r) => r.whatsapp_message_id === s.message.id);
      expect(row, s.rawType).toEqual({
        id: expect.any(String),
        whatsapp_message_id: s.message.id,
        tipo: s.crm!.tipo,
        mensaje: s.crm!.mensaje,
        media_id: s.mediaId,
        media_type: s.crm!.mediaType,
        // Media is off in this router (no WHATSAPP_ACCESS_TOKEN to fetch it with).
        media_url: null,
        direccion: 'entrante',
        remitente_tipo: 'contacto',
        remitente_nombre: CUSTOMER_NAME,
        eliminado: false,
        ts: Number(s.message.timestamp),
      });
    }
    // The reaction is the contact's row in mensaje_reacciones on the message it reacts to, not a bubble.
    const reaction = samples.find((s) => s.tipo === 'reaction')!;
    const target = stored.find(
      (r) => r.whatsapp_message_id === (reaction.message['reaction'] as { message_id: string }).message_id,
    )!;
    expect(await rows('SELECT mensaje_id, usuario_id, emoji FROM mensaje_reacciones')).toEqual([
      { mensaje_id: target.id, usuario_id: null, emoji: '❤️' },
    ]);
    expect(
      await rows(`SELECT count(*)::int AS n FROM mensajes WHERE tipo = 'reaction' OR whatsapp_message_id = $1`, [
        reaction.message.id,
      ]),
    ).toEqual([{ n: 0 }]);
    // One conversation; every stored customer message counted unread, the reaction not.
    const conv = await rows(
      `SELECT mensajes_no_leidos, telefono, linea_origen, nombre, (SELECT count(*)::int FROM conversaciones) AS n FROM conversaciones`,
    );
    expect(conv).toEqual([
      {
        mensajes_no_leidos: asRows.length,
        telefono: `+${CUSTOMER_PHONE}`,
        linea_origen: 'wsp4',
        nombre: CUSTOMER_NAME,
        n: 1,
      },
    ]);
  });

  it('when a new customer writes, then contact and conversation are created as the CRM lists them and the stored menu reply is the last message', async () => {
    const ts = nowS() - 5;
    const m = textMessage({ body: 'hola', timestamp: ts });
    expect((await router.postWebhook(inboundEnvelope(m))).status).toBe(200);
    await router.idle();
    const contacts = await rows<{ id: string }>(`SELECT id, telefono, nombre, origen FROM contactos`);
    expect(contacts).toEqual([
      { id: expect.any(String), telefono: `+${CUSTOMER_PHONE}`, nombre: CUSTOMER_NAME, origen: 'whatsapp' },
    ]);
    const [conv] = await rows(
      `SELECT contacto_id, telefono, nombre, linea_origen, area, estado, canal, mensajes_no_leidos, ultimo_mensaje,
              ts_ultimo_mensaje, ventana_24h_activa, ${epoch('ventana_24h_inicio', 'v24_inicio')}, ${epoch('ventana_24h_fin', 'v24_fin')},
              ventana_72h_activa, ventana_72h_inicio, ventana_72h_fin, es_lead_meta, (SELECT count(*)::int FROM conversaciones) AS n
         FROM conversaciones`,
    );
    const stored = await rows<{ mensaje: string; timestamp: Date; ts: number }>(
      `SELECT direccion, remitente_tipo, remitente_nombre, mensaje, estado_envio, enviado, fallido, error_mensaje, eliminado,
              whatsapp_message_id, "timestamp", ${epoch('"timestamp"', 'ts')}
         FROM mensajes ORDER BY "timestamp"`,
    );
    expect(stored).toHaveLength(2);
    const [inbound, reply] = stored;
    expect(inbound).toMatchObject({
      direccion: 'entrante',
      remitente_tipo: 'contacto',
      remitente_nombre: CUSTOMER_NAME,
      mensaje: 'hola',
      whatsapp_message_id: m.id,
      eliminado: false,
      ts,
    });
    // The bot's reply is a CRM row too; accepting it for sending does not tick it (Meta's statuses will).
    expect(reply).toMatchObject({
      direccion: 'saliente',
      remitente_tipo: 'bot',
      remitente_nombre: 'Router WSP4',
      estado_envio: null,
      enviado: false,
      fallido: false,
      error_mensaje: null,
      eliminado: false,
    });
    expect(reply!.mensaje).toMatch(/Administración/);
    expect(reply!.timestamp.getTime()).toBeGreaterThan(ts * 1000);
    expect(conv).toEqual({
      contacto_id: contacts[0]!.id,
      telefono: `+${CUSTOMER_PHONE}`,
      nombre: CUSTOMER_NAME,
      linea_origen: 'wsp4',
      area: 'wsp4',
      estado: 'activa',
      canal: 'whatsapp',
      // Only the customer's message is unread; the router's reply is not.
      mensajes_no_leidos: 1,
      ultimo_mensaje: reply!.mensaje,
      ts_ultimo_mensaje: reply!.timestamp,
      ventana_24h_activa: true,
      v24_inicio: ts,
      v24_fin: ts + 86_400,
      ventana_72h_activa: false,
      ventana_72h_inicio: null,
      ventana_72h_fin: null,
      es_lead_meta: false,
      n: 1,
    });
  });

  it('when a customer writes into a conversation the CRM opened, then it is found under the CRM spelling, its empty name is filled and the list columns roll forward only', async () => {
    // "Nuevo chat" stores +54 without the 9 (CP:211-217); an agent has the chat (derived: nothing is answered).
    const [crmContact] = await rows<{ id: string }>(
      `INSERT INTO contactos (telefono, nombre) VALUES ('+541155550001', 'Lucía (CRM)') RETURNING id`,
    );
    await rows(
      `INSERT INTO conversaciones (contacto_id, telefono, linea_origen, area, estado, router_estado, nombre, mensajes_no_leidos)
       VALUES ($1, '+541155550001', 'wsp4', 'ventas', 'derivada', 'derivado', '', 0)`,
      [crmContact!.id],
    );
    const t0 = 1_780_000_000;
    await router.postWebhook(inboundEnvelope(textMessage({ body: 'primero', timestamp: t0 })));
    await router.postWebhook(inboundEnvelope(textMessage({ body: 'segundo', timestamp: t0 + 600 })));
    await router.idle();
    // Delivered late but written earlier: counted, stored at its WhatsApp time, but the list keeps 'segundo'.
    await router.postWebhook(inboundEnvelope(textMessage({ body: 'tardío', timestamp: t0 + 300 })));
    await router.idle();
    expect(await rows(`SELECT telefono, nombre FROM contactos`)).toEqual([
      { telefono: '+541155550001', nombre: 'Lucía (CRM)' },
    ]);
    expect(
      await rows(
        `SELECT nombre, ultimo_mensaje, ${epoch('ts_ultimo_mensaje', 'ts')}, mensajes_no_leidos, ventana_24h_activa,
                ${epoch('ventana_24h_inicio', 'v24_inicio')}, ${epoch('ventana_24h_fin', 'v24_fin')}, ventana_72h_fin, es_lead_meta, estado
           FROM conversaciones`,
      ),
    ).toEqual([
      {
        nombre: CUSTOMER_NAME,
        ultimo_mensaje: 'segundo',
        ts: t0 + 600,
        mensajes_no_leidos: 3,
        ventana_24h_activa: true,
        v24_inicio: t0 + 600,
        v24_fin: t0 + 600 + 86_400,
        ventana_72h_fin: null,
        es_lead_meta: false,
        estado: 'derivada',
      },
    ]);
    expect(
      await rows(`SELECT mensaje, direccion, ${epoch('"timestamp"', 'ts')} FROM mensajes ORDER BY "timestamp"`),
    ).toEqual([
      { mensaje: 'primero', direccion: 'entrante', ts: t0 },
      { mensaje: 'tardío', direccion: 'entrante', ts: t0 + 300 },
      { mensaje: 'segundo', direccion: 'entrante', ts: t0 + 600 },
    ]);
  });

  it("when the same customer writes to two configured lines, then one contact has one conversation per line, each under the line's CRM code", async () => {
    await rows(
      `INSERT INTO router_lineas (codigo, nombre, tipo, phone_number_id) VALUES ('wsp4', 'WSP4', 'cloud', $1), ('ventas_api', 'Ventas API', 'cloud', '222333444555')`,
      [PHONE_NUMBER_ID],
    );
    const perLine = (phone: string) =>
      rows(
        `SELECT c.linea_origen, c.area, c.mensajes_no_leidos, m.mensaje
           FROM conversaciones c JOIN mensajes m ON m.conversacion_id = c.id AND m.direccion = 'entrante'
          WHERE c.telefono = $1 ORDER BY c.linea_origen`,
        [`+${phone}`],
      );
    const expected = [
      { linea_origen: 'ventas_api', area: 'ventas_api', mensajes_no_leidos: 1, mensaje: 'a ventas' },
      { linea_origen: 'wsp4', area: 'wsp4', mensajes_no_leidos: 1, mensaje: 'al principal' },
    ];
    const write = (from: string) => [
      () => router.postWebhook(inboundEnvelope(textMessage({ from, body: 'al principal', timestamp: nowS() - 20 }))),
      () =>
        router.postWebhook(
          inboundEnvelope(textMessage({ from, body: 'a ventas', timestamp: nowS() - 10 }), {
            phoneNumberId: '222333444555',
          }),
        ),
    ];
    // One after the other.
    for (const post of write(CUSTOMER_PHONE)) {
      expect((await post()).status).toBe(200);
      await router.idle();
    }
    expect(await perLine(CUSTOMER_PHONE)).toEqual(expected);
    // At the same instant: both lines' workers create the contact; the loser of the race retries and
    // finds the winner's row (the retry runs on a timer, so wait for it), never a second contact.
    const racer = '5491177770001';
    await Promise.all(write(racer).map((post) => post()));
    await expect.poll(() => perLine(racer), { timeout: 10_000, interval: 100 }).toEqual(expected);
    expect(
      await rows(`SELECT telefono, count(*)::int AS n FROM contactos GROUP BY telefono ORDER BY telefono`),
    ).toEqual([
      { telefono: `+${CUSTOMER_PHONE}`, n: 1 },
      { telefono: `+${racer}`, n: 1 },
    ]);
    expect(
      await rows(`SELECT count(DISTINCT contacto_id)::int AS contacts, count(*)::int AS n FROM conversaciones`),
    ).toEqual([{ contacts: 2, n: 4 }]);
  });

  it('when a reply with context and an ad referral arrives, then the context id, the referral, the 72 h window and the Meta lead flag are kept', async () => {
    const ts = 1_780_000_000;
    const m = imageMessage({
      timestamp: ts,
      caption: 'esta promo',
      context: replyContext({ messageId: 'wamid.ORIGINAL', from: '15550783881' }),
      referral: adReferral({ ctwaClid: 'CLID-123', sourceId: 'AD-42' }),
    });
    expect((await router.postWebhook(inboundEnvelope(m))).status).toBe(200);
    await router.idle();
    const [msg] = await rows<{ metadata: { referral: { ctwaClid: string } } }>(
      `SELECT mensaje, tipo, whatsapp_context_id, mensaje_citado_id, media_type, metadata FROM mensajes WHERE direccion = 'entrante'`,
    );
    expect(msg).toMatchObject({
      mensaje: 'esta promo',
      tipo: 'image',
      whatsapp_context_id: 'wamid.ORIGINAL',
      mensaje_citado_id: null,
      media_type: 'image',
    });
    expect(msg?.metadata.referral.ctwaClid).toBe('CLID-123');
    const [conv] = await rows<{ metadata: { referral: Record<string, unknown> } }>(
      `SELECT ventana_24h_activa, ${epoch('ventana_24h_fin', 'v24')}, ventana_72h_activa, ${epoch('ventana_72h_inicio', 'v72_inicio')},
              ${epoch('ventana_72h_fin', 'v72')}, es_lead_meta, metadata FROM conversaciones`,
    );
    expect(conv).toMatchObject({
      ventana_24h_activa: true,
      v24: ts + 24 * 3600,
      ventana_72h_activa: true,
      v72_inicio: ts,
      v72: ts + 72 * 3600,
      es_lead_meta: true,
    });
    expect(conv?.metadata.referral).toMatchObject({ ctwaClid: 'CLID-123', sourceId: 'AD-42', sourceType: 'ad' });
  });

  it('when a customer quotes a stored message, then mensaje_citado_id points at it', async () => {
    const first = textMessage({ body: 'el original', timestamp: nowS() - 20 });
    await router.postWebhook(inboundEnvelope(first));
    await router.idle();
    const quote = textMessage({
      body: 'respondo a eso',
      timestamp: nowS() - 10,
      context: replyContext({ messageId: first.id, from: CUSTOMER_PHONE }),
    });
    await router.postWebhook(inboundEnvelope(quote));
    await router.idle();
    const [original] = await rows<{ id: string }>(`SELECT id FROM mensajes WHERE whatsapp_message_id = $1`, [first.id]);
    expect(
      await rows(
        `SELECT mensaje, whatsapp_context_id, mensaje_citado_id FROM mensajes WHERE whatsapp_message_id = $1`,
        [quote.id],
      ),
    ).toEqual([{ mensaje: 'respondo a eso', whatsapp_context_id: first.id, mensaje_citado_id: original!.id }]);
  });

  it('when a batch holds 3 entries × 2 changes × 5 messages plus statuses, then all 30 messages are stored and all statuses applied', async () => {
    const outbound = ['wamid.OUT-1', 'wamid.OUT-2', 'wamid.OUT-3'];
    for (const w of outbound) await insertOutbound(w);
    const ids: string[] = [];
    const entries = [0, 1, 2].map((e) =>
      entry(
        [0, 1].map((c) => {
          const phone = `54911555${e}${c}000`;
          const messages = [0, 1, 2, 3, 4].map((i) =>
            textMessage({ from: phone, body: `m${e}${c}${i}`, timestamp: 1_780_000_000 + i }),
          );
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
    const stored = await rows<{ whatsapp_message_id: string }>(
      `SELECT whatsapp_message_id FROM mensajes WHERE direccion = 'entrante'`,
    );
    expect(stored.map((r) => r.whatsapp_message_id).sort()).toEqual([...ids].sort());
    const convs = await rows<{ telefono: string; nombre: string; mensajes_no_leidos: number }>(
      'SELECT telefono, nombre, mensajes_no_leidos FROM conversaciones WHERE mensajes_no_leidos > 0 ORDER BY telefono',
    );
    expect(convs).toEqual(
      [0, 1, 2].flatMap((e) =>
        [0, 1].map((c) => ({ telefono: `+54911555${e}${c}000`, nombre: `Cliente ${e}${c}`, mensajes_no_leidos: 5 })),
      ),
    );
    expect(await ticks(outbound)).toEqual(outbound.map((w) => tick(w, 'delivered')));
  });

  it("when statuses arrive out of order, then estado_envio only moves forward, the flags agree and a failure keeps Meta's error", async () => {
    for (const w of ['wamid.A', 'wamid.B', 'wamid.C', 'wamid.D']) await insertOutbound(w);
    const post = async (...statuses: Record<string, unknown>[]) => {
      expect((await router.postWebhook(envelope(messagesChange({ statuses })))).status).toBe(200);
      await router.idle();
    };
    await post(statusItem({ id: 'wamid.A', status: 'read', timestamp: 1_780_000_010 }));
    await post(
      statusItem({ id: 'wamid.A', status: 'delivered', timestamp: 1_780_000_005 }),
      statusItem({ id: 'wamid.A', status: 'sent', timestamp: 1_780_000_001 }),
    );
    await post(
      statusItem({
        id: 'wamid.B',
        status: 'failed',
        errors: [
          metaError({ code: 131047, title: 'Re-engagement message', details: 'More than 24 hours have passed.' }),
        ],
      }),
    );
    // A failure after `sent` overwrites it; nothing overwrites the failure.
    await post(statusItem({ id: 'wamid.C', status: 'sent', timestamp: 1_780_000_001 }));
    await post(
      statusItem({
        id: 'wamid.C',
        status: 'failed',
        timestamp: 1_780_000_002,
        errors: [metaError({ code: 131026, title: 'Message undeliverable', details: 'Message Undeliverable.' })],
      }),
    );
    await post(statusItem({ id: 'wamid.C', status: 'delivered', timestamp: 1_780_000_003 }));
    // A voice note listened to (`played`) shows as read; a late `failed` cannot undo a read.
    await post(statusItem({ id: 'wamid.D', status: 'played', timestamp: 1_780_000_004 }));
    await post(
      statusItem({ id: 'wamid.D', status: 'failed', timestamp: 1_780_000_005, errors: [metaError({ code: 131000 })] }),
    );
    expect(await ticks(['wamid.A', 'wamid.B', 'wamid.C', 'wamid.D'])).toEqual([
      tick('wamid.A', 'read'),
      tick('wamid.B', 'failed', {
        codigo: 131047,
        mensaje: '131047: Re-engagement message — More than 24 hours have passed.',
      }),
      {
        ...tick('wamid.C', 'failed', {
          codigo: 131026,
          mensaje: '131026: Message undeliverable — Message Undeliverable.',
        }),
        enviado: true,
      },
      tick('wamid.D', 'read'),
    ]);
  });

  it('when one batch carries sent, read and delivered for the same message, then it ends read with all three times kept', async () => {
    await insertOutbound('wamid.BATCH');
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
    expect(await ticks(['wamid.BATCH'])).toEqual([tick('wamid.BATCH', 'read')]);
    const [row] = await rows<{ estados: Record<string, string> }>(
      `SELECT metadata->'estados' AS estados FROM mensajes WHERE whatsapp_message_id = 'wamid.BATCH'`,
    );
    expect(Object.keys(row?.estados ?? {}).sort()).toEqual(['delivered', 'read', 'sent']);
    expect(Date.parse(row!.estados['read']!)).toBe(1_780_000_009_000);
  });

  it('when delivered and read race in parallel requests, then the message ends read', async () => {
    await insertOutbound('wamid.RACE');
    const posts = [];
    for (let i = 0; i < 10; i++) {
      posts.push(
        router.postWebhook(
          envelope(
            messagesChange({ statuses: [statusItem({ id: 'wamid.RACE', status: i % 2 ? 'read' : 'delivered' })] }),
          ),
        ),
      );
    }
    expect((await Promise.all(posts)).map((r) => r.status)).toEqual(Array(10).fill(200));
    await router.idle();
    expect(await ticks(['wamid.RACE'])).toEqual([tick('wamid.RACE', 'read')]);
  });

  it('when a status arrives for a message not stored yet, then it is parked as an orphan, not lost', async () => {
    await router.postWebhook(
      envelope(messagesChange({ statuses: [statusItem({ id: 'wamid.UNKNOWN', status: 'delivered' })] })),
    );
    await router.idle();
    expect(await rows(`SELECT estado, wamid FROM router_eventos`)).toEqual([
      { estado: 'huerfano', wamid: 'wamid.UNKNOWN' },
    ]);
  });

  it('when the contact reacts, changes the emoji and removes it, then its one mensaje_reacciones row follows and no bubble is stored', async () => {
    const target = textMessage({ body: 'mensaje con reacciones', timestamp: nowS() - 60 });
    await router.postWebhook(inboundEnvelope(target));
    await router.idle();
    const [{ id: targetId }] = (await rows<{ id: string }>(`SELECT id FROM mensajes WHERE whatsapp_message_id = $1`, [
      target.id,
    ])) as [{ id: string }];
    // An agent's own reaction on the same message is theirs: the contact's changes never touch it.
    await rows(`INSERT INTO mensaje_reacciones (mensaje_id, usuario_id, emoji) VALUES ($1, gen_random_uuid(), '🙏')`, [
      targetId,
    ]);
    const react = async (emoji: string | null, at: number) => {
      expect(
        (await router.postWebhook(inboundEnvelope(reactionMessage({ messageId: target.id, emoji, timestamp: at }))))
          .status,
      ).toBe(200);
      await router.idle();
      return rows(`SELECT mensaje_id, usuario_id, emoji FROM mensaje_reacciones WHERE usuario_id IS NULL`);
    };
    expect(await react('👍', nowS() - 50)).toEqual([{ mensaje_id: targetId, usuario_id: null, emoji: '👍' }]);
    expect(await react('😂', nowS() - 40)).toEqual([{ mensaje_id: targetId, usuario_id: null, emoji: '😂' }]);
    expect(await react(null, nowS() - 30)).toEqual([]);
    expect(await react('❤️', nowS() - 20)).toEqual([{ mensaje_id: targetId, usuario_id: null, emoji: '❤️' }]);
    expect(await react('', nowS() - 10)).toEqual([]);
    // A reaction to a message that was never stored leaves nothing behind, and is done.
    await router.postWebhook(inboundEnvelope(reactionMessage({ messageId: 'wamid.NEVER-STORED', emoji: '🔥' })));
    await router.idle();
    expect(await rows(`SELECT count(*)::int AS n FROM mensaje_reacciones WHERE usuario_id IS NULL`)).toEqual([
      { n: 0 },
    ]);
    expect(
      await rows(`SELECT count(*)::int AS n FROM mensaje_reacciones WHERE usuario_id IS NOT NULL AND emoji = '🙏'`),
    ).toEqual([{ n: 1 }]);
    expect(await rows(`SELECT count(*)::int AS n FROM router_eventos WHERE estado <> 'hecho'`)).toEqual([{ n: 0 }]);
    // No reaction became a chat row or an unread message.
    expect(await rows(`SELECT mensaje FROM mensajes WHERE direccion = 'entrante'`)).toEqual([
      { mensaje: 'mensaje con reacciones' },
    ]);
    expect(await rows(`SELECT mensajes_no_leidos FROM conversaciones`)).toEqual([{ mensajes_no_leidos: 1 }]);
  });

  it('when a username-only customer writes (no phone, business-scoped user id), then a contact keyed on the user id is created and reused', async () => {
    const m1 = textMessage({ from: null, fromUserId: CUSTOMER_USER_ID, body: 'hola' });
    const m2 = textMessage({ from: null, fromUserId: CUSTOMER_USER_ID, body: 'sigo acá' });
    await router.postWebhook(inboundEnvelope(m1, { username: 'lucia.f' }));
    await router.postWebhook(inboundEnvelope(m2, { username: 'lucia.f' }));
    await router.idle();
    // telefono is NOT NULL in the CRM's table: it carries the user id.
    const contacts = await rows(`SELECT telefono, wa_user_id, username FROM contactos`);
    expect(contacts).toEqual([{ telefono: CUSTOMER_USER_ID, wa_user_id: CUSTOMER_USER_ID, username: 'lucia.f' }]);
    expect(
      await rows(
        `SELECT count(*)::int AS n, min(telefono) AS telefono, sum(mensajes_no_leidos)::int AS unread FROM conversaciones`,
      ),
    ).toEqual([{ n: 1, telefono: CUSTOMER_USER_ID, unread: 2 }]);
  });

  it('when Meta reports top-level errors or another webhook field, then the batch is accepted and the events kept for audit', async () => {
    const res = await router.postWebhook(
      envelope(messagesChange({ errors: [metaError({ code: 131000, title: 'Something went wrong' })] }), {
        field: 'message_template_status_update',
        value: { event: 'APPROVED', message_template_id: 1 },
      }),
    );
    expect(res.status).toBe(200);
    expect(await rows(`SELECT tipo, estado FROM router_eventos ORDER BY tipo`)).toEqual([
      { tipo: 'error', estado: 'hecho' },
      { tipo: 'other', estado: 'hecho' },
    ]);
  });
});

describe('message storage with media on', () => {
  const PUBLIC_URL = 'https://router.example.org';
  let router: RunningRouter;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'psi-router-storage-'));
    await truncateData();
    // A token turns the media pipeline on; nothing is downloaded or sent here (both loops off).
    router = await startRouter(
      testConfig({
        WHATSAPP_ACCESS_TOKEN: 'unused-token',
        WHATSAPP_API_URL: 'http://127.0.0.1:9',
        MEDIA_PUBLIC_URL: `${PUBLIC_URL}/`,
        DATA_DIR: dataDir,
      }),
      { sender: false, media: false },
    );
  });
  afterAll(async () => {
    await router.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("when media messages arrive, then media_url is the router's /media/<id>/<name> link, media_type what the chat renders and mensaje the caption or placeholder", async () => {
    const ts = nowS() - 30;
    const messages = [
      imageMessage({ caption: 'foto', timestamp: ts }),
      documentMessage({ filename: 'inscripción 2025.pdf', timestamp: ts }),
      audioMessage({ timestamp: ts }),
      stickerMessage({ timestamp: ts }),
      locationMessage({ timestamp: ts }),
      textMessage({ body: 'sin adjunto', timestamp: ts }),
      imageMessage({ timestamp: ts }),
      videoMessage({ timestamp: ts }),
      documentMessage({ filename: 'programa.pdf', caption: 'el programa', timestamp: ts }),
    ];
    for (const m of messages) expect((await router.postWebhook(inboundEnvelope(m))).status).toBe(200);
    await router.idle();
    const stored = await rows<{
      id: string;
      whatsapp_message_id: string;
      tipo: string;
      mensaje: string;
      media_type: string | null;
      media_url: string | null;
    }>(
      `SELECT id, whatsapp_message_id, tipo, mensaje, media_type, media_url FROM mensajes WHERE direccion = 'entrante'`,
    );
    const byWamid = (w: string) => stored.find((r) => r.whatsapp_message_id === w)!;
    const link = (id: string, name: string) => `${PUBLIC_URL}/media/${id}/${encodeURIComponent(name)}`;
    const expected = [
      { tipo: 'image', mensaje: 'foto', media_type: 'image', name: 'image.jpg' },
      { tipo: 'document', mensaje: 'inscripción 2025.pdf', media_type: 'document', name: 'inscripción 2025.pdf' },
      { tipo: 'audio', mensaje: '[Audio]', media_type: 'audio', name: 'audio.ogg' },
      { tipo: 'sticker', mensaje: '[Sticker]', media_type: 'image', name: 'sticker.webp' },
      { tipo: 'location', mensaje: '[Ubicación: -34.6037, -58.3816]', media_type: null, name: null },
      { tipo: 'text', mensaje: 'sin adjunto', media_type: null, name: null },
      { tipo: 'image', mensaje: '[Imagen]', media_type: 'image', name: 'image.jpg' },
      { tipo: 'video', mensaje: '[Video]', media_type: 'video', name: 'video.mp4' },
      { tipo: 'document', mensaje: 'el programa', media_type: 'document', name: 'programa.pdf' },
    ];
    expect(stored).toHaveLength(messages.length);
    messages.forEach((m, i) => {
      const row = byWamid(m.id);
      const e = expected[i]!;
      expect(
        { tipo: row.tipo, mensaje: row.mensaje, media_type: row.media_type, media_url: row.media_url },
        e.tipo,
      ).toEqual({
        tipo: e.tipo,
        mensaje: e.mensaje,
        media_type: e.media_type,
        media_url: e.name === null ? null : link(row.id, e.name),
      });
    });
    expect(byWamid(messages[1]!.id).media_url).toMatch(/\/inscripci%C3%B3n%202025\.pdf$/);
  });
});

describe('message storage when the database counts unread messages itself', () => {
  let router: RunningRouter;

  beforeAll(async () => {
    await truncateData();
    // Like the CRM's own incrementer (contract §13): a trigger on mensajes keeps mensajes_no_leidos.
    await withClient((c) =>
      c.query(`
        CREATE OR REPLACE FUNCTION test_crm_contar_no_leidos() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.direccion = 'entrante' THEN
            UPDATE conversaciones SET mensajes_no_leidos = coalesce(mensajes_no_leidos, 0) + 1 WHERE id = NEW.conversacion_id;
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER test_crm_no_leidos AFTER INSERT ON mensajes FOR EACH ROW EXECUTE FUNCTION test_crm_contar_no_leidos();`),
    );
    // The profile is read at start: this router sees the trigger.
    router = await startRouter(testConfig());
  });
  afterAll(async () => {
    await router.stop();
    await withClient((c) =>
      c.query(
        `DROP TRIGGER IF EXISTS test_crm_no_leidos ON mensajes; DROP FUNCTION IF EXISTS test_crm_contar_no_leidos()`,
      ),
    );
  });

  it('when a trigger on mensajes maintains mensajes_no_leidos, then the router does not count as well', async () => {
    await router.postWebhook(inboundEnvelope(textMessage({ body: 'uno', timestamp: nowS() - 20 })));
    await router.idle();
    await router.postWebhook(inboundEnvelope(textMessage({ body: 'dos', timestamp: nowS() - 10 })));
    await router.idle();
    expect(await rows(`SELECT count(*)::int AS n FROM mensajes WHERE direccion = 'entrante'`)).toEqual([{ n: 2 }]);
    expect(await rows(`SELECT mensajes_no_leidos FROM conversaciones`)).toEqual([{ mensajes_no_leidos: 2 }]);
  });
});
