import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allMessageTypes,
  envelope,
  inboundEnvelope,
  messagesChange,
  statusItem,
  textMessage,
} from '../fixtures/whatsapp/builders.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

/** The `npm start` default: no DATABASE_URL, PGlite under DATA_DIR, same migrations and SQL. */
describe('embedded PGlite default', () => {
  let dataDir: string;
  let router: RunningRouter;
  const config = () => testConfig({ DATABASE_URL: undefined, DATA_DIR: dataDir });

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'psi-router-pglite-'));
    router = await startRouter(config());
  });
  afterAll(async () => {
    await router.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('when started without DATABASE_URL, then it runs on PGlite with the default menu seeded and the wamid index in place', async () => {
    expect(router.runtime.db.engine).toBe('pglite');
    // The CRM's menus are named by tipo_menu (ids are uuids).
    const menus = await router.runtime.db.query<{ tipo_menu: string }>(
      'SELECT tipo_menu FROM router_menu_config ORDER BY tipo_menu',
    );
    expect(menus.rows.map((r) => r.tipo_menu)).toEqual(['alumnos', 'inscripciones', 'principal']);
    const index = await router.runtime.db.query(
      `SELECT indexname FROM pg_indexes WHERE tablename = 'mensajes' AND indexname = 'mensajes_wamid_unico'`,
    );
    expect(index.rows).toEqual([{ indexname: 'mensajes_wamid_unico' }]);
  });

  it('when every message type is posted, then each is stored once as the CRM renders it and the reaction lands on its message', async () => {
    const samples = allMessageTypes();
    for (const s of samples) expect((await router.postWebhook(inboundEnvelope(s.message))).status).toBe(200);
    await router.idle();
    const rows = await router.runtime.db.query<{ id: string; whatsapp_message_id: string }>(
      `SELECT id, whatsapp_message_id, tipo, mensaje, media_id, media_type, direccion, remitente_tipo, eliminado,
              extract(epoch FROM "timestamp")::bigint::int AS ts
         FROM mensajes WHERE direccion = 'entrante'`,
    );
    const asRows = samples.filter((s) => s.crm !== null);
    expect(rows.rows).toHaveLength(samples.length - 1);
    for (const s of asRows) {
      expect(
        rows.rows.find((r) => r.whatsapp_message_id === s.message.id),
        s.rawType,
      ).toEqual({
        id: expect.any(String),
        whatsapp_message_id: s.message.id,
        tipo: s.crm!.tipo,
        mensaje: s.crm!.mensaje,
        media_id: s.mediaId,
        media_type: s.crm!.mediaType,
        direccion: 'entrante',
        remitente_tipo: 'contacto',
        eliminado: false,
        ts: Number(s.message.timestamp),
      });
    }
    const reaction = samples.find((s) => s.tipo === 'reaction')!;
    const target = rows.rows.find(
      (r) => r.whatsapp_message_id === (reaction.message['reaction'] as { message_id: string }).message_id,
    )!;
    const reactions = await router.runtime.db.query('SELECT mensaje_id, usuario_id, emoji FROM mensaje_reacciones');
    expect(reactions.rows).toEqual([{ mensaje_id: target.id, usuario_id: null, emoji: '❤️' }]);
    const conv = await router.runtime.db.query('SELECT mensajes_no_leidos, linea_origen, area FROM conversaciones');
    expect(conv.rows).toEqual([{ mensajes_no_leidos: asRows.length, linea_origen: 'wsp4', area: 'wsp4' }]);
  });

  it('when the same wamid arrives in parallel and again after a restart, then it is stored once and nothing changes', async () => {
    const body = inboundEnvelope(textMessage({ body: 'embebido 🎓' }));
    const res = await Promise.all(Array.from({ length: 20 }, () => router.postWebhook(body)));
    expect(res.map((r) => r.status)).toEqual(Array(20).fill(200));
    await router.idle();
    const snapshot = async () =>
      (
        await router.runtime.db.query(
          `SELECT m.id, m.mensaje, c.mensajes_no_leidos, c.ultimo_mensaje FROM mensajes m JOIN conversaciones c ON c.id = m.conversacion_id WHERE m.mensaje = 'embebido 🎓'`,
        )
      ).rows;
    const before = await snapshot();
    expect(before).toHaveLength(1);

    await router.stop();
    router = await startRouter(config());
    expect((await router.postWebhook(body)).status).toBe(200);
    await router.idle();
    expect(await snapshot()).toEqual(before);
  });

  it('when statuses arrive, then they move an outbound message forward only', async () => {
    const conv = await router.runtime.db.query<{ id: string }>('SELECT id FROM conversaciones LIMIT 1');
    // As the sender leaves an accepted send: the wamid, no tick yet.
    await router.runtime.db.query(
      `INSERT INTO mensajes (conversacion_id, tipo, direccion, remitente_tipo, whatsapp_message_id) VALUES ($1, 'text', 'saliente', 'bot', 'wamid.EMB-OUT')`,
      [conv.rows[0]!.id],
    );
    const state = async () =>
      (
        await router.runtime.db.query(
          `SELECT estado_envio, enviado, entregado, leido, fallido FROM mensajes WHERE whatsapp_message_id = 'wamid.EMB-OUT'`,
        )
      ).rows;
    await router.postWebhook(
      envelope(messagesChange({ statuses: [statusItem({ id: 'wamid.EMB-OUT', status: 'delivered' })] })),
    );
    await router.idle();
    expect(await state()).toEqual([
      { estado_envio: 'delivered', enviado: true, entregado: true, leido: false, fallido: false },
    ]);
    await router.postWebhook(
      envelope(messagesChange({ statuses: [statusItem({ id: 'wamid.EMB-OUT', status: 'read' })] })),
    );
    await router.idle();
    // A late `sent` (its own journal key) must not move it back.
    await router.postWebhook(
      envelope(messagesChange({ statuses: [statusItem({ id: 'wamid.EMB-OUT', status: 'sent' })] })),
    );
    await router.idle();
    expect(await state()).toEqual([
      { estado_envio: 'read', enviado: true, entregado: true, leido: true, fallido: false },
    ]);
  });
});
