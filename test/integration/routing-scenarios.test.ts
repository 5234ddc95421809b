import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  contact,
  envelope,
  inboundEnvelope,
  listReplyMessage,
  messagesChange,
  reactionMessage,
  textMessage,
} from '../fixtures/whatsapp/builders.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { startRoutingRig, type RoutingRig } from '../helpers/routing-bench.js';
import { PHONE_NUMBER_ID } from '../fixtures/whatsapp/ids.js';

const PHONE = '5491166660001';
let clock = Math.floor(Date.now() / 1000) - 300;
const ts = () => (clock += 1);

const rowIds = (body: Record<string, unknown>): string[] => {
  const interactive = body['interactive'] as { action?: { sections?: { rows: { id: string }[] }[] } } | undefined;
  return interactive?.action?.sections?.flatMap((s) => s.rows.map((r) => r.id)) ?? [];
};
const textOf = (body: Record<string, unknown>) => (body['text'] as { body?: string } | undefined)?.body ?? null;

describe('routing: scripted conversations against the router, the Graph simulator and an inbox', () => {
  let rig: RoutingRig;

  const say = async (text: string, from = PHONE) => {
    expect(
      (await rig.router.postWebhook(inboundEnvelope(textMessage({ from, body: text, timestamp: ts() })))).status,
    ).toBe(200);
    await rig.settle();
  };
  const tap = async (id: string, from = PHONE) => {
    expect(
      (await rig.router.postWebhook(inboundEnvelope(listReplyMessage({ from, rowId: id, title: id, timestamp: ts() }))))
        .status,
    ).toBe(200);
    await rig.settle();
  };
  const lastSent = () => rig.sim.sent[rig.sim.sent.length - 1]!;
  const q = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    withClient(async (c) => (await c.query<T>(sql, params)).rows);

  beforeAll(async () => {
    await resetDatabase();
    rig = await startRoutingRig({ ADMIN_TOKEN: 'admin-token' });
  });
  afterAll(async () => {
    await rig.close();
  });
  beforeEach(() => rig.reset());

  it('when a customer goes menu → submenu → derivation → chat → MENU (stays with the agent) → closed → reopened, then every step does what the business expects', async () => {
    await say('hola');
    expect(rig.sim.sent).toHaveLength(1);
    expect(lastSent().to).toBe(PHONE);
    expect(rowIds(lastSent().body)).toEqual(['admin', 'alumnos', 'inscripciones', 'comunidad']);
    expect(await q('SELECT linea_origen, area, estado, router_estado, menu_actual FROM conversaciones')).toEqual([
      {
        linea_origen: 'wsp4',
        area: 'wsp4',
        estado: 'activa',
        router_estado: 'menu_principal',
        menu_actual: 'principal',
      },
    ]);

    await tap('inscripciones');
    expect(rowIds(lastSent().body)).toEqual(['inscripciones_cursos', 'inscripciones_asesor', 'inscripciones_volver']);
    expect(await q('SELECT router_estado, menu_actual FROM conversaciones')).toEqual([
      { router_estado: 'submenu_inscripciones', menu_actual: 'inscripciones' },
    ]);

    await tap('inscripciones_asesor');
    const tickets = await q<{ id: string; ticket_id: string; area: string }>('SELECT id, ticket_id, area FROM tickets');
    expect(tickets).toHaveLength(1);
    expect(tickets[0]!.ticket_id).toMatch(/^TKT-\d{8}-[0-9A-Z]{5}$/);
    expect(
      await q(
        'SELECT area_origen, area_destino, subetiqueta, menu_option_selected, ticket_id::text, telefono, status FROM derivaciones',
      ),
    ).toEqual([
      {
        area_origen: 'wsp4',
        area_destino: 'ventas',
        subetiqueta: 'asesor',
        menu_option_selected: 'inscripciones_asesor',
        ticket_id: tickets[0]!.id,
        telefono: `+${PHONE}`,
        status: 'completada',
      },
    ]);
    expect(textOf(lastSent().body)).toContain(tickets[0]!.ticket_id);
    expect(await q('SELECT estado, router_estado, area, ticket_id, numero_derivaciones FROM conversaciones')).toEqual([
      {
        estado: 'derivada',
        router_estado: 'derivado',
        area: 'ventas',
        ticket_id: tickets[0]!.ticket_id,
        numero_derivaciones: 1,
      },
    ]);
    expect(await q(`SELECT mensaje, direccion, tipo FROM mensajes WHERE remitente_tipo = 'sistema'`)).toEqual([
      { mensaje: '🤖 WSP4 → ventas → Quiere hablar con un asesor', direccion: 'entrante', tipo: 'text' },
    ]);
    expect(await q('SELECT accion, tabla_afectada, origen FROM audit_log')).toEqual([
      { accion: 'derivacion_menu_interactivo', tabla_afectada: 'conversaciones', origen: 'router-wsp4' },
    ]);
    const [derivationNote] = await rig.inbox.waitFor(1);
    expect(derivationNote).toMatchObject({ path: '/ventas', event: 'derivation', signatureValid: true });
    expect(derivationNote!.body).toMatchObject({
      event: 'derivation',
      ticket: tickets[0]!.ticket_id,
      area: { id: 'ventas' },
      contact: { phone: `+${PHONE}` },
    });

    const sentBefore = rig.sim.sent.length;
    await say('¿me pueden llamar mañana?');
    await say('Menú'); // the business removed the escape: a derived conversation belongs to the agent
    await tap('inscripciones_asesor'); // a stale tap from the old list: no note, no second ticket
    expect(rig.sim.sent).toHaveLength(sentBefore);
    const forwarded = await rig.inbox.waitFor(4);
    expect(forwarded[1]).toMatchObject({
      event: 'message',
      signatureValid: true,
      body: { ticket: tickets[0]!.ticket_id, message: { text: '¿me pueden llamar mañana?' } },
    });
    expect(await q('SELECT count(*)::int AS n FROM tickets')).toEqual([{ n: 1 }]);
    expect(await q('SELECT estado, router_estado, area FROM conversaciones')).toEqual([
      { estado: 'derivada', router_estado: 'derivado', area: 'ventas' },
    ]);

    await withClient((c) => c.query(`UPDATE conversaciones SET estado = 'cerrada'`)); // "Fin Conv" leaves router_estado = derivado
    await say('hola otra vez');
    expect(rowIds(lastSent().body)).toEqual(['admin', 'alumnos', 'inscripciones', 'comunidad']);
    expect(await q('SELECT estado, router_estado FROM conversaciones')).toEqual([
      { estado: 'activa', router_estado: 'menu_principal' },
    ]);

    await say('2'); // a number typed as text selects the option
    expect(rowIds(lastSent().body)).toEqual([
      'alumnos_campus',
      'alumnos_certificados',
      'alumnos_otro',
      'alumnos_volver',
    ]);

    const counts = await q<{ direccion: string; remitente_tipo: string; n: number }>(
      'SELECT direccion, remitente_tipo, count(*)::int AS n FROM mensajes GROUP BY 1, 2 ORDER BY 1, 2',
    );
    expect(counts).toEqual([
      { direccion: 'entrante', remitente_tipo: 'contacto', n: 8 },
      { direccion: 'entrante', remitente_tipo: 'sistema', n: 1 },
      { direccion: 'saliente', remitente_tipo: 'bot', n: rig.sim.sent.length },
    ]);
    const unsent = await q(`SELECT id FROM mensajes WHERE direccion = 'saliente' AND whatsapp_message_id IS NULL`);
    expect(unsent).toEqual([]);
    // The CRM's list reads these, and refreshes only on conversaciones changes.
    const [last] = await q<{ ultimo_mensaje: string; unread: number }>(
      'SELECT ultimo_mensaje, mensajes_no_leidos AS unread FROM conversaciones',
    );
    expect(last!.ultimo_mensaje).toBe(
      (await q<{ mensaje: string }>('SELECT mensaje FROM mensajes ORDER BY "timestamp" DESC LIMIT 1'))[0]!.mensaje,
    );
    expect(last!.unread).toBe(8); // the customer's messages (no trigger here: the router counts)
  });

  it('when the same derivation is chosen again from the menu within the anti-loop period, then there is no second ticket', async () => {
    await say('hola');
    await tap('admin');
    await withClient((c) =>
      c.query(
        `UPDATE conversaciones SET estado = 'activa', router_estado = 'menu_principal', menu_actual = 'principal'`,
      ),
    );
    await tap('admin');
    expect(await q('SELECT count(*)::int AS n FROM tickets')).toEqual([{ n: 1 }]);
    expect(await q('SELECT count(*)::int AS n FROM derivaciones')).toEqual([{ n: 1 }]);
    expect(textOf(lastSent().body)).toMatch(/^Ya te derivamos con Administración/);
  });

  it('when 13 courses are listed, then they page with at most 10 rows each, every course once, and a course derives to sales', async () => {
    await withClient(async (c) => {
      await c.query('DELETE FROM cursos');
      await c.query(
        `INSERT INTO cursos (codigo, nombre) SELECT 'K' || lpad(g::text, 2, '0'), 'Curso ' || lpad(g::text, 2, '0') FROM generate_series(1, 13) g`,
      );
    });
    await say('hola');
    await tap('inscripciones');
    await tap('inscripciones_cursos');
    const page1 = rowIds(lastSent().body);
    expect(page1.length).toBeLessThanOrEqual(10);
    await tap(page1.find((id) => id.startsWith('ver_mas_cursos_p'))!);
    const page2 = rowIds(lastSent().body);
    expect(page2.length).toBeLessThanOrEqual(10);
    const ids = await q<{ id: string; codigo: string }>('SELECT id::text, codigo FROM cursos ORDER BY codigo');
    const listed = [...page1, ...page2].filter((id) => id.startsWith('curso_'));
    expect(listed.sort()).toEqual(ids.map((c) => `curso_${c.id}`).sort());
    const k12 = ids.find((c) => c.codigo === 'K12')!;
    await tap(`curso_${k12.id}`);
    expect(await q('SELECT area_destino, subetiqueta, motivo, menu_option_selected FROM derivaciones')).toEqual([
      {
        area_destino: 'ventas',
        subetiqueta: 'curso:K12',
        motivo: 'Interesado en: Curso 12 (K12)',
        menu_option_selected: `curso_${k12.id}`,
      },
    ]);
    expect(await q(`SELECT mensaje FROM mensajes WHERE remitente_tipo = 'sistema'`)).toEqual([
      { mensaje: '🤖 WSP4 → Ventas → Interesado en: Curso 12 (K12)' },
    ]);
    expect(await q('SELECT accion, tabla_afectada, origen FROM audit_log')).toEqual([
      { accion: 'seleccion_curso_wsp4', tabla_afectada: 'menu_interacciones', origen: 'router-wsp4' },
    ]);
  });

  it('when reactions arrive, then the contact has one row per message in mensaje_reacciones (replaced, removed), no bubble, no answer', async () => {
    await say('hola');
    const before = rig.sim.sent.length;
    const menuWamid = lastSent().wamid;
    const react = async (emoji: string) => {
      await rig.router.postWebhook(
        inboundEnvelope(reactionMessage({ from: PHONE, messageId: menuWamid, emoji, timestamp: ts() })),
      );
      await rig.settle();
      return q<{ emoji: string; usuario_id: string | null }>(
        'SELECT r.emoji, r.usuario_id FROM mensaje_reacciones r JOIN mensajes m ON m.id = r.mensaje_id WHERE m.whatsapp_message_id = $1',
        [menuWamid],
      );
    };
    expect(await react('👍')).toEqual([{ emoji: '👍', usuario_id: null }]);
    expect(await react('❤️')).toEqual([{ emoji: '❤️', usuario_id: null }]);
    expect(await react('')).toEqual([]);
    expect(rig.sim.sent).toHaveLength(before);
    expect(await q(`SELECT count(*)::int AS n FROM mensajes WHERE tipo = 'reaction'`)).toEqual([{ n: 0 }]);
  });

  it('when the simulator posts sent/delivered/read, then estado_envio moves forward only, in the CRM words, and the booleans agree', async () => {
    await say('hola');
    const wamid = lastSent().wamid;
    await rig.sim.statusWebhooksIdle();
    await rig.settle();
    const tick = { estado_envio: 'read', enviado: true, entregado: true, leido: true, fallido: false };
    const read = () =>
      q('SELECT estado_envio, enviado, entregado, leido, fallido FROM mensajes WHERE whatsapp_message_id = $1', [
        wamid,
      ]);
    expect(await read()).toEqual([tick]);
    await rig.sim.postStatus(wamid, 'delivered', { to: PHONE });
    await rig.settle();
    expect(await read()).toEqual([tick]);
  });

  it('when a secondary (inbox) line is written to, then an unknown contact gets one note per cooldown and a known contact nothing', async () => {
    const SECONDARY = '200000000000001';
    const put = (codigo: string, body: Record<string, unknown>) =>
      fetch(`${rig.router.url}/admin/lines/${codigo}`, {
        method: 'PUT',
        headers: { authorization: 'Bearer admin-token', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(
      (await put('wsp4', { nombre: 'WSP4', tipo: 'cloud', phoneNumberId: PHONE_NUMBER_ID, flujo: 'menu' })).status,
    ).toBe(201);
    expect(
      (await put('alumnos', { nombre: 'Alumnos', tipo: 'cloud', phoneNumberId: SECONDARY, flujo: 'inbox' })).status,
    ).toBe(201);
    const onSecondary = (from: string, body: string) =>
      rig.router.postWebhook(
        envelope(
          messagesChange({
            phoneNumberId: SECONDARY,
            contacts: [contact({ waId: from })],
            messages: [textMessage({ from, body, timestamp: ts() })],
          }),
        ),
      );
    await onSecondary('5491177770001', 'hola');
    await onSecondary('5491177770001', '¿hay alguien?');
    await rig.settle();
    const notes = rig.sim.sent.filter((m) => m.to === '5491177770001');
    expect(notes).toHaveLength(1);
    expect(notes[0]!.phoneNumberId).toBe(SECONDARY);

    await say('hola', '5491177770002'); // known: talks to the main number
    const before = rig.sim.sent.length;
    await onSecondary('5491177770002', 'hola por acá también');
    await rig.settle();
    expect(rig.sim.sent).toHaveLength(before);
    expect(
      await q(
        `SELECT count(*)::int AS n FROM mensajes m JOIN conversaciones c ON c.id = m.conversacion_id WHERE c.linea_origen = 'alumnos' AND m.direccion = 'entrante'`,
      ),
    ).toEqual([{ n: 3 }]);
  });

  it('when a line stores no bot replies (the old behaviour), then the customer still gets the menu and the chat keeps only their messages and the 🤖 line', async () => {
    const put = await fetch(`${rig.router.url}/admin/lines/wsp4`, {
      method: 'PUT',
      headers: { authorization: 'Bearer admin-token', 'content-type': 'application/json' },
      body: JSON.stringify({
        nombre: 'WSP4',
        tipo: 'cloud',
        phoneNumberId: PHONE_NUMBER_ID,
        flujo: 'menu',
        ajustes: { storeBotReplies: false },
      }),
    });
    expect(put.status).toBe(201);
    await say('hola');
    await tap('admin');
    expect(rig.sim.sent).toHaveLength(2);
    expect(await q(`SELECT direccion, remitente_tipo FROM mensajes ORDER BY "timestamp"`)).toEqual([
      { direccion: 'entrante', remitente_tipo: 'contacto' },
      { direccion: 'entrante', remitente_tipo: 'contacto' },
      { direccion: 'entrante', remitente_tipo: 'sistema' },
    ]);
    expect(
      await q(
        `SELECT count(*)::int AS n FROM router_outbox WHERE canal = 'whatsapp' AND estado = 'enviado' AND mensaje_id IS NULL`,
      ),
    ).toEqual([{ n: 2 }]);
  });

  it('when lines are configured and a number none of them names writes, then it is stored under its phone_number_id and not answered', async () => {
    const put = await fetch(`${rig.router.url}/admin/lines/wsp4`, {
      method: 'PUT',
      headers: { authorization: 'Bearer admin-token', 'content-type': 'application/json' },
      body: JSON.stringify({ nombre: 'WSP4', tipo: 'cloud', phoneNumberId: '300000000000001', flujo: 'menu' }),
    });
    expect(put.status).toBe(201);
    await say('hola');
    expect(rig.sim.sent).toHaveLength(0);
    expect(await q('SELECT linea_origen, area FROM conversaciones')).toEqual([
      { linea_origen: PHONE_NUMBER_ID, area: PHONE_NUMBER_ID },
    ]);
  });
});
