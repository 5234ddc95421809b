import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCrmDatabase, type CrmFixtureFacts } from '../fixtures/crm/build-crm-db.js';
import { inboundEnvelope, reactionMessage, textMessage } from '../fixtures/whatsapp/builders.js';
import { migrateCli } from '../helpers/migrate-cli.js';
import { withClient } from '../helpers/reset-db.js';
import { startRoutingRig, type RoutingRig } from '../helpers/routing-bench.js';
import { TEST_DATABASE_URL } from '../helpers/test-config.js';

/**
 * The CRM's own writes, replayed as the SQL its screens send (each under its contract reference),
 * against the CRM database after the router's migrations and --fix: none may fail, and the router
 * honours the state each leaves behind.
 */
let clock = 0;
const ts = () => (clock = Math.max(clock + 1, Math.ceil(Date.now() / 1000) + 1));
const q = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  withClient(async (c) => (await c.query<T>(sql, params)).rows);

const rowIds = (body: Record<string, unknown>): string[] => {
  const interactive = body['interactive'] as { action?: { sections?: { rows: { id: string }[] }[] } } | undefined;
  return interactive?.action?.sections?.flatMap((s) => s.rows.map((r) => r.id)) ?? [];
};

describe("the CRM's writes after the router's migrations", () => {
  let facts: CrmFixtureFacts;
  let rig: RoutingRig;
  const PHONE = '5491140000001';
  let convId = '';
  let contactId = '';

  const say = async (body: string, from = PHONE) => {
    expect((await rig.router.postWebhook(inboundEnvelope(textMessage({ from, body, timestamp: ts() })))).status).toBe(
      200,
    );
    await rig.settle();
  };
  const sent = () => rig.sim.sent.filter((m) => m.to === PHONE);

  beforeAll(async () => {
    facts = await buildCrmDatabase(TEST_DATABASE_URL);
    expect((await migrateCli('--fix')).code).toBe(0);
    // The CRM's wsp4 autoreplies are on in the fixture; they have their own tests (autoreplies.test.ts).
    await q(`UPDATE config_autorespuestas SET activo = false`);
    rig = await startRoutingRig();
  });
  afterAll(async () => {
    await rig.close();
  });

  it('"Nuevo chat" (CP:257-272) creates its contact and conversation; the customer\'s answer lands there, stored and forwarded', async () => {
    const [contact] = await q<{ id: string }>(
      `INSERT INTO contactos (telefono, origen, activo) VALUES ('+541140000001', 'crm', true) RETURNING id`,
    );
    const [conv] = await q<{ id: string }>(
      `INSERT INTO conversaciones (contacto_id, telefono, estado, prioridad, canal, area, linea_origen, inbox_fijo, origen)
       VALUES ($1, '+541140000001', 'nueva', 'media', 'whatsapp', 'alumnos', 'alumnos', 'alumnos', 'crm') RETURNING *`,
      [contact!.id],
    );
    contactId = contact!.id;
    convId = conv!.id;
    await say('hola, ¿me escribieron?');
    expect(sent()).toEqual([]);
    expect(await q('SELECT count(*)::int AS n FROM mensajes WHERE conversacion_id = $1', [convId])).toEqual([{ n: 1 }]);
  });

  it('a "Nuevo chat" row written without origen (estado nueva, inbox_fijo set) is found all the same, not duplicated', async () => {
    const [contact] = await q<{ id: string }>(`INSERT INTO contactos (telefono) VALUES ('+541140000002') RETURNING id`);
    const [conv] = await q<{ id: string }>(
      `INSERT INTO conversaciones (contacto_id, telefono, estado, area, linea_origen, inbox_fijo) VALUES ($1, '+541140000002', 'nueva', 'comunidad', 'comunidad', 'comunidad') RETURNING id`,
      [contact!.id],
    );
    await say('hola', '5491140000002');
    expect(rig.sim.sent.filter((m) => m.to === '5491140000002')).toEqual([]);
    expect(await q(`SELECT id FROM conversaciones WHERE contacto_id = $1`, [contact!.id])).toEqual([{ id: conv!.id }]);
    expect(await q(`SELECT count(*)::int AS n FROM contactos WHERE telefono LIKE '%1140000002'`)).toEqual([{ n: 1 }]);
  });

  it('Desconectar off (CH:315) hands the conversation back to the router, and the customer gets the menu', async () => {
    await q(
      `UPDATE conversaciones SET desconectado_wsp4 = false, desconectado_ventas_api = false, inbox_fijo = NULL WHERE id = $1`,
      [convId],
    );
    await say('hola');
    expect(rowIds(sent().at(-1)!.body)).toEqual(['administracion', 'alumnos', 'inscripciones', 'comunidad']);
  });

  it("an agent message and its quote (EN:189-224, CH:845-851) are written beside the router's rows", async () => {
    const customer = (
      await q<{ id: string; whatsapp_message_id: string }>(
        `SELECT id, whatsapp_message_id FROM mensajes WHERE conversacion_id = $1 AND remitente_tipo = 'contacto' ORDER BY "timestamp" DESC LIMIT 1`,
        [convId],
      )
    )[0]!;
    const [agent] = await q<{ id: string }>(
      `INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, remitente_nombre, remitente_id, "timestamp",
                             enviado, leido, whatsapp_message_id, whatsapp_context_id, media_url, media_type)
       VALUES ($1, 'Hola, soy Ana', 'text', 'saliente', 'agente', 'Ana Torres', $2, now(), true, false, 'wamid.AGENTE-1', $3, NULL, NULL) RETURNING id`,
      [convId, facts.agentUserIds[0], customer.whatsapp_message_id],
    );
    await q(
      `UPDATE conversaciones SET ultimo_mensaje = 'Hola, soy Ana', ultimo_mensaje_at = now(), ts_ultimo_mensaje = now() WHERE id = $1`,
      [convId],
    );
    await q(`UPDATE mensajes SET mensaje_citado_id = $1 WHERE id = $2`, [customer.id, agent!.id]);
    const [view] = await q<{ mensaje_citado_contenido: string }>(
      `SELECT mensaje_citado_contenido FROM vw_mensajes_completos WHERE id = $1`,
      [agent!.id],
    );
    expect(view!.mensaje_citado_contenido).toBe('hola');
  });

  it('a derivation by an agent (CH:331-383) leaves the conversation with the agent: the customer is forwarded to that area, not answered', async () => {
    await q(`UPDATE conversaciones SET area = 'comunidad', estado = 'derivada' WHERE id = $1`, [convId]);
    await q(
      `INSERT INTO derivaciones (conversacion_id, area_origen, area_destino, motivo, derivado_por, status) VALUES ($1, 'wsp4', 'comunidad', NULL, 'ana@psi.example', 'completada')`,
      [convId],
    );
    await q(
      `INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, remitente_nombre) VALUES ($1, '📋 Derivado de WSP4 a Comunidad', 'text', 'entrante', 'sistema', 'Ana Torres')`,
      [convId],
    );
    const before = sent().length;
    await say('gracias, espero');
    expect(sent()).toHaveLength(before);
    const deliveries = await rig.inbox.waitFor(1);
    expect(deliveries.at(-1)).toMatchObject({ path: '/comunidad', event: 'message' });
  });

  it("an agent reaction (CH:703-722) and the customer's own reaction live side by side", async () => {
    const [bot] = await q<{ id: string; whatsapp_message_id: string }>(
      `SELECT id, whatsapp_message_id FROM mensajes WHERE conversacion_id = $1 AND remitente_tipo = 'bot' AND whatsapp_message_id IS NOT NULL LIMIT 1`,
      [convId],
    );
    await q(`INSERT INTO mensaje_reacciones (mensaje_id, usuario_id, emoji) VALUES ($1, $2, '👍')`, [
      bot!.id,
      facts.agentUserIds[0],
    ]);
    await rig.router.postWebhook(
      inboundEnvelope(
        reactionMessage({ from: PHONE, messageId: bot!.whatsapp_message_id, emoji: '❤️', timestamp: ts() }),
      ),
    );
    await rig.settle();
    expect(
      await q(
        `SELECT emoji, usuario_id::text FROM mensaje_reacciones WHERE mensaje_id = $1 ORDER BY usuario_id NULLS LAST`,
        [bot!.id],
      ),
    ).toEqual([
      { emoji: '👍', usuario_id: facts.agentUserIds[0] },
      { emoji: '❤️', usuario_id: null },
    ]);
    await q(`DELETE FROM mensaje_reacciones WHERE mensaje_id = $1 AND usuario_id = $2 AND emoji = '👍'`, [
      bot!.id,
      facts.agentUserIds[0],
    ]);
    expect(await q(`SELECT count(*)::int AS n FROM mensaje_reacciones WHERE mensaje_id = $1`, [bot!.id])).toEqual([
      { n: 1 },
    ]);
  });

  it('marcar_como_leidos (CH:643) resets the badge, and the next customer message counts once', async () => {
    await q(`SELECT marcar_como_leidos($1)`, [convId]);
    expect(await q(`SELECT mensajes_no_leidos FROM conversaciones WHERE id = $1`, [convId])).toEqual([
      { mensajes_no_leidos: 0 },
    ]);
    await say('¿hay novedades?');
    expect(await q(`SELECT mensajes_no_leidos FROM conversaciones WHERE id = $1`, [convId])).toEqual([
      { mensajes_no_leidos: 1 },
    ]);
  });

  it('Desconectar (CH:289-297) silences the router: stored and forwarded, never answered', async () => {
    await q(`UPDATE conversaciones SET desconectado_wsp4 = true, inbox_fijo = area WHERE id = $1`, [convId]);
    const before = sent().length;
    await say('MENU');
    expect(sent()).toHaveLength(before);
  });

  it('Fin Conv (CH:318) closes it; the next message starts at the main menu', async () => {
    await q(
      `UPDATE conversaciones SET desconectado_wsp4 = false, desconectado_ventas_api = false, inbox_fijo = NULL WHERE id = $1`,
      [convId],
    );
    await q(`UPDATE conversaciones SET estado = 'cerrada' WHERE id = $1`, [convId]);
    await say('hola de nuevo');
    expect(rowIds(sent().at(-1)!.body)).toEqual(['administracion', 'alumnos', 'inscripciones', 'comunidad']);
    expect(await q(`SELECT estado, router_estado, contacto_id FROM conversaciones WHERE id = $1`, [convId])).toEqual([
      { estado: 'activa', router_estado: 'menu_principal', contacto_id: contactId },
    ]);
  });

  it('menu edits (AJ:357-420) show in the next menu: new texts, a new option without submenu_id, a deactivated one gone', async () => {
    await q(
      `UPDATE router_menu_config SET header = 'Psi 2027', body = 'Nuevo texto del menú', footer = 'Pie', button_text = 'Abrir', updated_at = now() WHERE id = $1`,
      [facts.ids.menuPrincipal],
    );
    await q(
      `INSERT INTO router_menu_opciones (menu_config_id, orden, opcion_id, emoji, titulo, descripcion, tipo_accion, area_destino, subetiqueta, mensaje_contexto, activo)
       VALUES ($1, 5, 'consultas_generales', '💬', 'Otras consultas', NULL, 'derivar', 'admin', NULL, 'Consulta general', true)`,
      [facts.ids.menuPrincipal],
    );
    await q(`UPDATE router_menu_opciones SET activo = false WHERE opcion_id = 'comunidad'`);
    await say('MENU');
    const menu = sent().at(-1)!.body['interactive'] as {
      header?: { text: string };
      body: { text: string };
      action: { button: string };
    };
    expect(menu.body.text).toBe('Nuevo texto del menú');
    expect(menu.action.button).toBe('Abrir');
    expect(rowIds(sent().at(-1)!.body)).toEqual(['administracion', 'alumnos', 'inscripciones', 'consultas_generales']);
    await rig.router.postWebhook(inboundEnvelope(textMessage({ from: PHONE, body: '4', timestamp: ts() })));
    await rig.settle();
    expect(
      await q(
        `SELECT area_destino, menu_option_selected, motivo FROM derivaciones WHERE conversacion_id = $1 AND derivado_por IS NULL`,
        [convId],
      ),
    ).toEqual([{ area_destino: 'admin', menu_option_selected: 'consultas_generales', motivo: 'Consulta general' }]);
  });
});
