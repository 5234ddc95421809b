import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { contact, envelope, inboundEnvelope, listReplyMessage, messagesChange, reactionMessage, textMessage } from '../fixtures/whatsapp/builders.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { startRoutingRig, type RoutingRig } from '../helpers/routing-bench.js';

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
    expect((await rig.router.postWebhook(inboundEnvelope(textMessage({ from, body: text, timestamp: ts() })))).status).toBe(200);
    await rig.settle();
  };
  const tap = async (id: string, from = PHONE) => {
    expect((await rig.router.postWebhook(inboundEnvelope(listReplyMessage({ from, rowId: id, title: id, timestamp: ts() })))).status).toBe(200);
    await rig.settle();
  };
  const lastSent = () => rig.sim.sent[rig.sim.sent.length - 1]!;
  const q = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => withClient(async (c) => (await c.query<T>(sql, params)).rows);

  beforeAll(async () => {
    await resetDatabase();
    rig = await startRoutingRig();
  });
  afterAll(async () => {
    await rig.close();
  });
  beforeEach(() => rig.reset());

  it('when a customer goes menu → submenu → derivation → chat → MENU → stale tap → closed → reopened, then every step does what the business expects', async () => {
    await say('hola');
    expect(rig.sim.sent).toHaveLength(1);
    expect(lastSent().to).toBe(PHONE);
    expect(rowIds(lastSent().body)).toEqual(['administracion', 'alumnos', 'inscripciones', 'comunidad']);

    await tap('inscripciones');
    expect(rowIds(lastSent().body)).toEqual(['inscripciones_cursos', 'inscripciones_asesor', 'inscripciones_volver']);

    await tap('inscripciones_asesor');
    const tickets = await q<{ ticket_id: string; area: string }>('SELECT ticket_id, area FROM tickets');
    expect(tickets).toHaveLength(1);
    expect(tickets[0]!.ticket_id).toMatch(/^TKT-\d{8}-[0-9A-Z]{5}$/);
    expect(await q('SELECT area_destino, subetiqueta, ticket_id FROM derivaciones')).toEqual([{ area_destino: 'ventas', subetiqueta: 'asesor', ticket_id: tickets[0]!.ticket_id }]);
    expect(textOf(lastSent().body)).toContain(tickets[0]!.ticket_id);
    expect(await q('SELECT estado, router_estado, area, ticket_id, numero_derivaciones FROM conversaciones')).toEqual([
      { estado: 'derivada', router_estado: 'derivado', area: 'ventas', ticket_id: tickets[0]!.ticket_id, numero_derivaciones: 1 },
    ]);
    const [derivationNote] = await rig.inbox.waitFor(1);
    expect(derivationNote).toMatchObject({ path: '/ventas', event: 'derivation', signatureValid: true });
    expect(derivationNote!.body).toMatchObject({ event: 'derivation', ticket: tickets[0]!.ticket_id, area: { id: 'ventas' }, contact: { phone: `+${PHONE}` } });

    const sentBefore = rig.sim.sent.length;
    await say('¿me pueden llamar mañana?');
    expect(rig.sim.sent).toHaveLength(sentBefore); // silence to the customer…
    const forwarded = await rig.inbox.waitFor(2);
    expect(forwarded[1]).toMatchObject({ event: 'message', signatureValid: true, body: { ticket: tickets[0]!.ticket_id, message: { text: '¿me pueden llamar mañana?' } } });

    await say('Menú');
    expect(rowIds(lastSent().body)).toEqual(['administracion', 'alumnos', 'inscripciones', 'comunidad']);

    await tap('inscripciones');
    await tap('inscripciones_asesor'); // the same derivation again within 15 minutes
    expect(await q('SELECT count(*)::int AS n FROM tickets')).toEqual([{ n: 1 }]);
    expect(textOf(lastSent().body)).toMatch(/^Ya te derivamos con Inscripciones/);

    await withClient((c) => c.query(`UPDATE conversaciones SET estado = 'cerrada'`)); // the CRM closes it
    await say('hola otra vez');
    expect(rowIds(lastSent().body)).toEqual(['administracion', 'alumnos', 'inscripciones', 'comunidad']);
    expect(await q('SELECT estado, router_estado FROM conversaciones')).toEqual([{ estado: 'activa', router_estado: 'menu_principal' }]);

    await say('2'); // a number typed as text selects the option
    expect(rowIds(lastSent().body)).toEqual(['alumnos_campus', 'alumnos_certificados', 'alumnos_otro', 'alumnos_volver']);

    const counts = await q<{ direccion: string; n: number }>('SELECT direccion, count(*)::int AS n FROM mensajes GROUP BY direccion ORDER BY direccion');
    expect(counts).toEqual([
      { direccion: 'entrante', n: 9 },
      { direccion: 'saliente', n: rig.sim.sent.length },
    ]);
    const unsent = await q(`SELECT id FROM mensajes WHERE direccion = 'saliente' AND whatsapp_message_id IS NULL`);
    expect(unsent).toEqual([]);
  });

  it('when a stale tap from an old list arrives while derived, then there is no second ticket', async () => {
    await say('hola');
    await tap('administracion');
    await tap('administracion'); // the same row tapped again from the old list
    expect(await q('SELECT count(*)::int AS n FROM tickets')).toEqual([{ n: 1 }]);
    expect(await q('SELECT count(*)::int AS n FROM derivaciones')).toEqual([{ n: 1 }]);
    expect(textOf(lastSent().body)).toMatch(/^Ya te derivamos con Administración/);
  });

  it('when 13 courses are listed, then they page with at most 10 rows each, every course once, and a course derives to sales', async () => {
    await withClient(async (c) => {
      await c.query('DELETE FROM cursos');
      await c.query(`INSERT INTO cursos (codigo, nombre) SELECT 'K' || lpad(g::text, 2, '0'), 'Curso ' || lpad(g::text, 2, '0') FROM generate_series(1, 13) g`);
    });
    await say('hola');
    await tap('inscripciones');
    await tap('inscripciones_cursos');
    const page1 = rowIds(lastSent().body);
    expect(page1.length).toBeLessThanOrEqual(10);
    await tap(page1.find((id) => id.startsWith('cursos:pagina:'))!);
    const page2 = rowIds(lastSent().body);
    expect(page2.length).toBeLessThanOrEqual(10);
    const listed = [...page1, ...page2].filter((id) => id.startsWith('curso:'));
    expect(listed.sort()).toEqual(Array.from({ length: 13 }, (_, i) => `curso:K${String(i + 1).padStart(2, '0')}`));
    await tap('curso:K12');
    expect(await q('SELECT area_destino, subetiqueta, motivo FROM derivaciones')).toEqual([{ area_destino: 'ventas', subetiqueta: 'curso:K12', motivo: 'Curso: Curso 12' }]);
  });

  it('when a reaction arrives, then it is stored and not answered', async () => {
    await say('hola');
    const before = rig.sim.sent.length;
    await rig.router.postWebhook(inboundEnvelope(reactionMessage({ from: PHONE, messageId: lastSent().wamid, emoji: '👍', timestamp: ts() })));
    await rig.settle();
    expect(rig.sim.sent).toHaveLength(before);
    expect(await q(`SELECT count(*)::int AS n FROM mensajes WHERE tipo = 'reaction'`)).toEqual([{ n: 1 }]);
  });

  it('when the simulator posts sent/delivered/read, then estado_envio moves forward only', async () => {
    await say('hola');
    const wamid = lastSent().wamid;
    await rig.sim.statusWebhooksIdle();
    await rig.settle();
    expect(await q('SELECT estado_envio FROM mensajes WHERE whatsapp_message_id = $1', [wamid])).toEqual([{ estado_envio: 'leido' }]);
    await rig.sim.postStatus(wamid, 'delivered', { to: PHONE });
    await rig.settle();
    expect(await q('SELECT estado_envio FROM mensajes WHERE whatsapp_message_id = $1', [wamid])).toEqual([{ estado_envio: 'leido' }]);
  });

  it('when a secondary (inbox) line is written to, then an unknown contact gets one note per cooldown and a known contact nothing', async () => {
    const SECONDARY = '200000000000001';
    await withClient((c) => c.query(`INSERT INTO router_lineas (phone_number_id, nombre, modo) VALUES ($1, 'Secundaria', 'inbox') ON CONFLICT DO NOTHING`, [SECONDARY]));
    const onSecondary = (from: string, body: string) =>
      rig.router.postWebhook(envelope(messagesChange({ phoneNumberId: SECONDARY, contacts: [contact({ waId: from })], messages: [textMessage({ from, body, timestamp: ts() })] })));
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
    expect(await q(`SELECT count(*)::int AS n FROM mensajes m JOIN conversaciones c ON c.id = m.conversacion_id WHERE c.linea_origen = $1 AND m.direccion = 'entrante'`, [SECONDARY])).toEqual([{ n: 3 }]);
  });
});
