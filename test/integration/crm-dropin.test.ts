import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCrmDatabase, type CrmFixtureFacts } from '../fixtures/crm/build-crm-db.js';
import {
  documentMessage,
  imageMessage,
  inboundEnvelope,
  listReplyMessage,
  reactionMessage,
  textMessage,
} from '../fixtures/whatsapp/builders.js';
import { migrateCli } from '../helpers/migrate-cli.js';
import { withClient } from '../helpers/reset-db.js';
import { startRoutingRig, type RoutingRig } from '../helpers/routing-bench.js';
import { startRouter } from '../helpers/start-router.js';
import { TEST_DATABASE_URL, testConfig } from '../helpers/test-config.js';

/**
 * The router dropped into the CRM's production-shaped database (test/fixtures/crm): it refuses to
 * start while the data blocks a guarantee, `migrate --check`/`--fix` clean it without losing a
 * message, and then every conversation is served so that the CRM's own queries (contract §1–§7)
 * show an agent exactly what they should.
 */
// WhatsApp times a second apart and never behind the wall clock, so the bot's replies (stored at
// now()) sort between the customer's messages as they would live.
let clock = 0;
const ts = () => (clock = Math.max(clock + 1, Math.ceil(Date.now() / 1000) + 1));
const q = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  withClient(async (c) => (await c.query<T>(sql, params)).rows);

const rowIds = (body: Record<string, unknown>): string[] => {
  const interactive = body['interactive'] as { action?: { sections?: { rows: { id: string }[] }[] } } | undefined;
  return interactive?.action?.sections?.flatMap((s) => s.rows.map((r) => r.id)) ?? [];
};

/** The chat as ChatPanel loads it (CH:640). */
const chat = (conversationId: string) =>
  q<{
    mensaje: string;
    direccion: string;
    remitente_tipo: string;
    tipo: string;
    media_type: string | null;
    media_url: string | null;
    estado_envio: string | null;
    reacciones: { emoji: string; usuario_id: string | null }[];
  }>(
    `SELECT mensaje, direccion, remitente_tipo, tipo, media_type, media_url, estado_envio, reacciones
       FROM vw_mensajes_completos WHERE conversacion_id = $1 AND eliminado = false ORDER BY "timestamp"`,
    [conversationId],
  );
const conversationsOf = (phoneLike: string) =>
  q<{
    id: string;
    linea_origen: string;
    area: string;
    estado: string;
    router_estado: string | null;
    nombre: string | null;
    mensajes_no_leidos: number;
    contacto_id: string;
  }>(
    `SELECT id, linea_origen, area, estado, router_estado, nombre, mensajes_no_leidos, contacto_id FROM conversaciones WHERE telefono LIKE $1 ORDER BY created_at`,
    [phoneLike],
  );

describe('drop-in on the CRM database', () => {
  let facts: CrmFixtureFacts;
  let rig: RoutingRig | null = null;
  let dataDir: string;

  const say = async (from: string, body: string, name = 'Cliente') => {
    expect(
      (await rig!.router.postWebhook(inboundEnvelope(textMessage({ from, body, timestamp: ts() }), { name }))).status,
    ).toBe(200);
    await rig!.settle();
  };
  const tap = async (from: string, id: string) => {
    expect(
      (
        await rig!.router.postWebhook(
          inboundEnvelope(listReplyMessage({ from, rowId: id, title: id, timestamp: ts() })),
        )
      ).status,
    ).toBe(200);
    await rig!.settle();
  };
  const sentTo = (to: string) => rig!.sim.sent.filter((m) => m.to === to);

  beforeAll(async () => {
    facts = await buildCrmDatabase(TEST_DATABASE_URL);
    dataDir = await mkdtemp(path.join(tmpdir(), 'psi-crm-'));
  });
  afterAll(async () => {
    await rig?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('when started on the CRM database with duplicate wamids, then the router refuses, naming the check, and changes no message', async () => {
    await expect(startRouter(testConfig({ DATA_DIR: dataDir }))).rejects.toMatchObject({
      code: 'DATA_BLOCKED',
      message: expect.stringContaining('WAMID_DUPLICATES'),
    });
    expect(await q('SELECT count(*)::int AS n FROM mensajes')).toEqual([{ n: facts.messageCount }]);
  });

  it('when --check, then --fix run as an operator would, then the dirt is reported, merged, and not one message is lost', async () => {
    const check = await migrateCli('--check');
    expect(check.code).toBe(2);
    expect(check.stdout).toMatch(/BLOCKS duplicate wamids in mensajes: 2 group\(s\)/);
    const fix = await migrateCli('--fix');
    expect(fix.code).toBe(0);
    expect(await q('SELECT count(*)::int AS n FROM mensajes')).toEqual([{ n: facts.messageCount }]);
    expect(await q(`SELECT tipo, count(*)::int AS n FROM router_fusiones GROUP BY tipo ORDER BY tipo`)).toEqual([
      { tipo: 'contacto', n: 2 },
      { tipo: 'conversacion', n: 2 },
      { tipo: 'wamid', n: 3 },
    ]);
    expect((await migrateCli('--check')).code).toBe(0);
  });

  it('when the router starts after --fix, then it serves a new customer on wsp4 through the CRM menu, and every CRM screen reads it right', async () => {
    // The CRM's wsp4 autoreplies are on in the fixture; they have their own tests (autoreplies.test.ts).
    await q(`UPDATE config_autorespuestas SET activo = false`);
    rig = await startRoutingRig({ DATA_DIR: dataDir, ADMIN_TOKEN: 'crm-admin' });
    const phone = '5491130000001';
    await say(phone, 'hola', 'Paula Ríos');
    expect(rowIds(sentTo(phone).at(-1)!.body)).toEqual(['administracion', 'alumnos', 'inscripciones', 'comunidad']);
    await tap(phone, 'inscripciones'); // a submenu the CRM's editor left without submenu_id
    expect(rowIds(sentTo(phone).at(-1)!.body)).toEqual(['ver_cursos', 'inscripciones_asesor', 'volver']);
    await tap(phone, 'ver_cursos');
    const courseRows = rowIds(sentTo(phone).at(-1)!.body);
    expect(courseRows).toEqual([
      `curso_${facts.ids.cursoTea}`,
      `curso_${facts.ids.cursoAt}`,
      `curso_${facts.ids.cursoPsicopedagogia}`,
      'volver',
    ]);
    await tap(phone, `curso_${facts.ids.cursoAt}`);

    const [conv] = await conversationsOf(`+${phone}`);
    expect(conv).toMatchObject({
      linea_origen: 'wsp4',
      area: 'ventas',
      estado: 'derivada',
      router_estado: 'derivado',
      nombre: 'Paula Ríos',
    });
    expect(await q('SELECT nombre FROM contactos WHERE telefono = $1', [`+${phone}`])).toEqual([
      { nombre: 'Paula Ríos' },
    ]);

    // The inbox list (CP:144-146): the Ventas inbox filters by area; newest first.
    const ventas = await q<{ id: string }>(
      `SELECT id FROM conversaciones WHERE area = 'ventas' ORDER BY ts_ultimo_mensaje DESC NULLS LAST`,
    );
    expect(ventas[0]!.id).toBe(conv!.id);

    // The chat (CH:640): the customer's taps, what the bot showed, the 🤖 line, in WhatsApp order.
    const lines = await chat(conv!.id);
    expect(lines.map((m) => [m.direccion, m.remitente_tipo])).toEqual([
      ['entrante', 'contacto'],
      ['saliente', 'bot'],
      ['entrante', 'contacto'],
      ['saliente', 'bot'],
      ['entrante', 'contacto'],
      ['saliente', 'bot'],
      ['entrante', 'contacto'],
      ['entrante', 'sistema'],
      ['saliente', 'bot'],
    ]);
    expect(lines[7]!.mensaje).toBe('🤖 WSP4 → Ventas → Interesado en: Acompañante Terapéutico (AT)');
    expect(lines[8]!.mensaje).toMatch(/TKT-\d{8}-[0-9A-Z]{5}/);

    // Unread: the CRM's trigger counts every entrante row (the 🤖 line too); the router adds nothing.
    expect(conv!.mensajes_no_leidos).toBe(lines.filter((m) => m.direccion === 'entrante').length);

    // Statistics (ES:219-225, 379-383) and the agents page (CA:111-115).
    const [ticket] = await q<{ id: string; ticket_id: string }>(
      'SELECT id, ticket_id FROM tickets WHERE conversacion_id = $1',
      [conv!.id],
    );
    expect(
      await q(
        'SELECT area_destino, menu_option_selected, ticket_id::text, area_origen FROM derivaciones WHERE conversacion_id = $1',
        [conv!.id],
      ),
    ).toEqual([
      {
        area_destino: 'ventas',
        menu_option_selected: `curso_${facts.ids.cursoAt}`,
        ticket_id: ticket!.id,
        area_origen: 'wsp4',
      },
    ]);
    expect(
      await q(
        `SELECT accion, tabla_afectada FROM audit_log WHERE origen IN ('crm-automatizaciones', 'router-wsp4', 'crm-respuestas') AND registro_id::text = $1`,
        [conv!.id],
      ),
    ).toEqual([{ accion: 'seleccion_curso_wsp4', tabla_afectada: 'menu_interacciones' }]);

    // Ticks (CH:880-884): Meta's statuses, in Meta's words, never backwards.
    await rig.sim.statusWebhooksIdle();
    await rig.settle();
    const ticks = await q<{ estado_envio: string; leido: boolean }>(
      `SELECT estado_envio, leido FROM mensajes WHERE conversacion_id = $1 AND remitente_tipo = 'bot'`,
      [conv!.id],
    );
    expect(ticks.every((t) => t.estado_envio === 'read' && t.leido)).toBe(true);
  });

  it('when contacts of the CRM write (merged +54/+549 spellings, derived, closed, taken by automations), then their own rows are used and the business rules hold', async () => {
    const contacts = await q<{ n: number }>('SELECT count(*)::int AS n FROM contactos');

    // Lucía: one person after --fix; her wsp4 conversation is found, not duplicated, and gets her name.
    await say('5491155550001', 'hola de nuevo', 'Lucía Gómez');
    expect((await conversationsOf('%1155550001')).map((c) => c.linea_origen)).toEqual(['wsp4']);

    // Carla, derived to alumnos and talking to an agent: "MENU" goes to the agent, nothing is answered.
    const before = rig!.sim.sent.length;
    await say('5491177770004', 'MENU');
    await say('5491177770004', 'sigo sin poder entrar');
    expect(rig!.sim.sent).toHaveLength(before);
    expect(
      await q('SELECT estado, router_estado, area FROM conversaciones WHERE id = $1', [facts.derived.conversationId]),
    ).toEqual([{ estado: 'derivada', router_estado: 'derivado', area: 'alumnos' }]);
    const carla = await chat(facts.derived.conversationId);
    expect(carla.at(-1)).toMatchObject({
      mensaje: 'sigo sin poder entrar',
      direccion: 'entrante',
      remitente_tipo: 'contacto',
    });

    // Elena, taken over by the ads automation (desconectado_wsp4): stored in her conversation, never a menu.
    await say('5491188880006', 'hola, ¿me pasan precios?');
    expect(sentTo('5491188880006')).toEqual([]);
    expect((await conversationsOf('%88880006')).map((c) => c.id)).toEqual([facts.disconnectedConversationId]);

    // Diego, whose conversation an agent closed: the main menu again.
    await say('5493515550005', 'hola, otra consulta');
    expect(rowIds(sentTo('5493515550005').at(-1)!.body)).toEqual([
      'administracion',
      'alumnos',
      'inscripciones',
      'comunidad',
    ]);
    expect(
      await q('SELECT estado, router_estado FROM conversaciones WHERE id = $1', [facts.closedConversationId]),
    ).toEqual([{ estado: 'activa', router_estado: 'menu_principal' }]);

    expect(await q('SELECT count(*)::int AS n FROM contactos')).toEqual(contacts);
  });

  it('when the CRM opened a "Nuevo chat" for a phone typed without the 9 and the customer answers on wsp4, then that conversation gets the message, forwarded, unanswered', async () => {
    // CP:257-272, replayed as the CRM writes it.
    const [crmContact] = await q<{ id: string }>(
      `INSERT INTO contactos (telefono, origen, activo) VALUES ('+541133330007', 'crm', true) RETURNING id`,
    );
    const [crmConv] = await q<{ id: string }>(
      `INSERT INTO conversaciones (contacto_id, telefono, estado, prioridad, canal, area, linea_origen, inbox_fijo, origen)
       VALUES ($1, '+541133330007', 'nueva', 'media', 'whatsapp', 'administracion', 'administracion', 'administracion', 'crm') RETURNING id`,
      [crmContact!.id],
    );
    await say('5491133330007', 'Hola, me escribieron de administración', 'Rita');
    expect(sentTo('5491133330007')).toEqual([]);
    expect(await q(`SELECT count(*)::int AS n FROM contactos WHERE telefono LIKE '%1133330007'`)).toEqual([{ n: 1 }]);
    expect(await conversationsOf('%1133330007')).toMatchObject([
      { id: crmConv!.id, area: 'administracion', estado: 'nueva', nombre: 'Rita', mensajes_no_leidos: 1 },
    ]);
    const note = (await rig!.inbox.waitFor(1)).find(
      (d) => (d.body as { conversation?: { id?: string } }).conversation?.id === crmConv!.id,
    );
    expect(note).toMatchObject({ path: '/administracion', event: 'message' });
  });

  it('when a customer sends an image, a document and a reaction, then the chat renders the files from their first row and the reaction sits on the message', async () => {
    const phone = '5491130000002';
    await say(phone, 'hola');
    const menuWamid = sentTo(phone).at(-1)!.wamid;
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(2000, 7)]);
    const image = rig!.sim.addMedia({ bytes: jpeg, mimeType: 'image/jpeg' });
    const pdf = rig!.sim.addMedia({
      bytes: Buffer.from('%PDF-1.4 informe'),
      mimeType: 'application/pdf',
      filename: 'Informe final año.pdf',
    });
    await rig!.router.postWebhook(
      inboundEnvelope(imageMessage({ from: phone, mediaId: image.id, sha256: image.sha256, timestamp: ts() })),
    );
    await rig!.router.postWebhook(
      inboundEnvelope(
        documentMessage({
          from: phone,
          mediaId: pdf.id,
          sha256: pdf.sha256,
          filename: 'Informe final año.pdf',
          timestamp: ts(),
        }),
      ),
    );
    await rig!.router.postWebhook(
      inboundEnvelope(reactionMessage({ from: phone, messageId: menuWamid, emoji: '🙏', timestamp: ts() })),
    );
    await rig!.settleMedia();
    const [conv] = await conversationsOf(`+${phone}`);
    const lines = await chat(conv!.id);
    const img = lines.find((m) => m.tipo === 'image')!;
    const doc = lines.find((m) => m.tipo === 'document')!;
    expect(img).toMatchObject({ mensaje: '[Imagen]', media_type: 'image' });
    expect(doc).toMatchObject({ mensaje: 'Informe final año.pdf', media_type: 'document' });
    expect(decodeURIComponent(doc.media_url!).split('/').pop()).toBe('Informe final año.pdf');
    expect(Buffer.from(await (await fetch(img.media_url!)).arrayBuffer())).toEqual(jpeg);
    expect(await (await fetch(doc.media_url!)).text()).toBe('%PDF-1.4 informe');
    expect(lines.filter((m) => m.tipo === 'reaction')).toEqual([]);
    expect(lines.find((m) => m.remitente_tipo === 'bot')!.reacciones).toEqual([
      expect.objectContaining({ emoji: '🙏', usuario_id: null }),
    ]);
  });
});

describe('drop-in on a CRM database whose derivaciones.ticket_id references tickets(ticket_id)', () => {
  let rig: RoutingRig | null = null;
  afterAll(async () => {
    await rig?.close();
  });

  it('when a customer is derived, then derivaciones.ticket_id holds the human ticket id the foreign key accepts', async () => {
    await buildCrmDatabase(TEST_DATABASE_URL, { ticketFk: 'ticket_id' });
    expect((await migrateCli('--fix')).code).toBe(0);
    await q(`UPDATE config_autorespuestas SET activo = false`);
    rig = await startRoutingRig();
    const phone = '5491130000003';
    for (const step of [
      () => textMessage({ from: phone, body: 'hola', timestamp: ts() }),
      () => listReplyMessage({ from: phone, rowId: 'administracion', title: 'Administración', timestamp: ts() }),
    ]) {
      await rig.router.postWebhook(inboundEnvelope(step()));
      await rig.settle();
    }
    const rows = await q<{ ticket_id: string; human: string }>(
      `SELECT d.ticket_id, t.ticket_id AS human FROM derivaciones d JOIN tickets t ON t.ticket_id = d.ticket_id WHERE d.telefono = $1`,
      [`+${phone}`],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.ticket_id).toMatch(/^TKT-\d{8}-[0-9A-Z]{5}$/);
    expect(
      await q(`SELECT area_destino, menu_option_selected FROM derivaciones WHERE telefono = $1`, [`+${phone}`]),
    ).toEqual([{ area_destino: 'admin', menu_option_selected: 'administracion' }]);
  });
});
