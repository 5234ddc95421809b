import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allMessageTypes, envelope, inboundEnvelope, messagesChange, statusItem, textMessage } from '../fixtures/whatsapp/builders.js';
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

  it('when started without DATABASE_URL, then it runs on PGlite with the default menu seeded', async () => {
    expect(router.runtime.db.engine).toBe('pglite');
    const menus = await router.runtime.db.query<{ id: string }>('SELECT id FROM router_menu_config ORDER BY id');
    expect(menus.rows.map((r) => r.id)).toEqual(['alumnos', 'inscripciones', 'principal']);
  });

  it('when every message type is posted, then each is stored once with its tipo and text', async () => {
    const samples = allMessageTypes();
    for (const s of samples) expect((await router.postWebhook(inboundEnvelope(s.message))).status).toBe(200);
    await router.idle();
    const rows = await router.runtime.db.query<{ whatsapp_message_id: string; tipo: string; mensaje: string | null; media_id: string | null }>(
      `SELECT whatsapp_message_id, tipo, mensaje, media_id FROM mensajes WHERE direccion = 'entrante'`,
    );
    expect(rows.rows).toHaveLength(samples.length);
    for (const s of samples) {
      expect(rows.rows.find((r) => r.whatsapp_message_id === s.message.id)).toEqual({
        whatsapp_message_id: s.message.id,
        tipo: s.tipo,
        mensaje: s.text,
        media_id: s.mediaId,
      });
    }
  });

  it('when the same wamid arrives in parallel and again after a restart, then it is stored once and nothing changes', async () => {
    const body = inboundEnvelope(textMessage({ body: 'embebido 🎓' }));
    const res = await Promise.all(Array.from({ length: 20 }, () => router.postWebhook(body)));
    expect(res.map((r) => r.status)).toEqual(Array(20).fill(200));
    await router.idle();
    const snapshot = async () =>
      (await router.runtime.db.query(`SELECT m.id, m.mensaje, c.mensajes_no_leidos, c.ultimo_mensaje FROM mensajes m JOIN conversaciones c ON c.id = m.conversacion_id WHERE m.mensaje = 'embebido 🎓'`)).rows;
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
    await router.runtime.db.query(
      `INSERT INTO mensajes (conversacion_id, tipo, direccion, remitente_tipo, whatsapp_message_id, estado_envio) VALUES ($1, 'text', 'saliente', 'bot', 'wamid.EMB-OUT', 'enviado')`,
      [conv.rows[0]!.id],
    );
    await router.postWebhook(envelope(messagesChange({ statuses: [statusItem({ id: 'wamid.EMB-OUT', status: 'read' })] })));
    await router.idle();
    await router.postWebhook(envelope(messagesChange({ statuses: [statusItem({ id: 'wamid.EMB-OUT', status: 'delivered' })] })));
    await router.idle();
    const row = await router.runtime.db.query(`SELECT estado_envio FROM mensajes WHERE whatsapp_message_id = 'wamid.EMB-OUT'`);
    expect(row.rows).toEqual([{ estado_envio: 'leido' }]);
  });
});
