import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AD_AT, q, rowIds, startFlowsRig, textOf, VENTAS_PNID, type FlowsRig } from '../helpers/flows-rig.js';

/**
 * The ads number's funnel on the CRM's database (FLOWS.md §A with §D's fixes): what the lead is
 * sent, and every row the CRM's chat and statistics pages read.
 */
describe('the ads funnel on the ventas_api number', () => {
  let f: FlowsRig;
  beforeAll(async () => {
    f = await startFlowsRig();
  }, 120_000);
  afterAll(async () => {
    await f?.close();
  });

  const conversationOf = async (phone: string) =>
    (
      await q<{
        id: string;
        linea_origen: string;
        area: string;
        inbox_fijo: string | null;
        desconectado_wsp4: boolean;
        estado: string;
        router_estado: string | null;
        metadata: Record<string, unknown>;
        ventana_72h_fin: Date | null;
      }>(
        `SELECT id, linea_origen, area, inbox_fijo, desconectado_wsp4, estado, router_estado, metadata, ventana_72h_fin
           FROM conversaciones WHERE telefono = $1`,
        [`+${phone}`],
      )
    )[0]!;
  const sessionsOf = (phone: string) =>
    q(
      `SELECT curso_id, origen, estado, interacciones, ad_id, ctwa_clid, config_ctwa_id IS NOT NULL AS con_config,
              referral->>'sourceUrl' AS source_url
         FROM menu_sesiones WHERE telefono = $1 ORDER BY created_at`,
      [`+${phone}`],
    );
  const tapsOf = (phone: string) =>
    q(
      `SELECT opcion_id, curso_codigo, curso_nombre, opcion_titulo, tipo_opcion, respuesta_enviada, derivado, ad_id,
              ctwa_clid IS NOT NULL AS con_clid, conversacion_id IS NOT NULL AS con_conversacion
         FROM menu_interacciones WHERE telefono = $1 ORDER BY created_at`,
      [`+${phone}`],
    );
  const chatOf = (conversationId: string) =>
    q<{ mensaje: string; direccion: string; remitente_tipo: string }>(
      `SELECT mensaje, direccion, remitente_tipo FROM vw_mensajes_completos
        WHERE conversacion_id = $1 AND eliminado = false ORDER BY "timestamp"`,
      [conversationId],
    );
  const executions = async () =>
    (
      await q<{ n: number; legacy: number | null }>(
        `SELECT (SELECT ejecuciones FROM config_cursos_ctwa WHERE ad_id = $1) AS n,
                (SELECT ejecuciones FROM config_ctwa_anuncios WHERE ad_id = $1) AS legacy`,
        [AD_AT],
      )
    )[0]!;

  it('when a lead clicks a configured ad and taps through to "Inscribirme", then the funnel runs to a derivation and leaves every row the statistics read', async () => {
    const phone = '5491170000001';
    const before = await executions();
    await f.adClick(phone, AD_AT, { clid: 'clid-lead-1' });

    const sent = f.sentTo(phone);
    expect(sent.map((m) => m.phoneNumberId)).toEqual(Array(3).fill('106540352249999'));
    expect(textOf(sent[0]!.body)).toBe('¡Hola! 👋 Gracias por tu interés en AT');
    expect(textOf(sent[1]!.body)).toBe('Formación de 2 años, 100% online');
    expect(rowIds(sent[2]!.body)).toEqual([
      f.options.precio,
      f.options.modalidad,
      f.options.asesor,
      f.options.inscribir,
    ]);
    expect(await executions()).toEqual({ n: before.n + 1, legacy: 1 });

    const conv = await conversationOf(phone);
    expect(conv).toMatchObject({
      linea_origen: 'ventas_api',
      area: 'ventas_api',
      inbox_fijo: 'ventas_api',
      desconectado_wsp4: true,
      router_estado: 'ads_menu',
    });
    expect(conv.ventana_72h_fin).not.toBeNull();
    expect((conv.metadata['referral'] as Record<string, unknown>)['ctwaClid']).toBe('clid-lead-1');

    await f.tap(phone, f.options.precio);
    const afterInfo = f.sentTo(phone).slice(3);
    expect(textOf(afterInfo[0]!.body)).toBe('Cuota: $50.000');
    expect(rowIds(afterInfo[1]!.body)).toHaveLength(4); // mostrar_menu_despues

    await f.tap(phone, f.options.inscribir);
    expect(textOf(f.sentTo(phone).at(-1)!.body)).toBe('¡Genial! Te pasamos con inscripciones');

    expect(await sessionsOf(phone)).toEqual([
      {
        curso_id: f.facts.ids.cursoAt,
        origen: 'ctwa',
        estado: 'derivado',
        interacciones: 2,
        ad_id: AD_AT,
        ctwa_clid: 'clid-lead-1',
        con_config: true,
        source_url: 'https://fb.me/3cr4Wqqkv',
      },
    ]);
    const tapRow = {
      curso_codigo: 'AT',
      curso_nombre: 'Acompañante Terapéutico',
      ad_id: AD_AT,
      con_clid: true,
      con_conversacion: true,
      respuesta_enviada: 'true',
    };
    expect(await tapsOf(phone)).toEqual([
      { ...tapRow, opcion_id: f.options.precio, opcion_titulo: 'Precio', tipo_opcion: 'info', derivado: false },
      {
        ...tapRow,
        opcion_id: f.options.inscribir,
        opcion_titulo: 'Inscribirme',
        tipo_opcion: 'inscribir',
        derivado: true,
      },
    ]);

    const derived = await conversationOf(phone);
    expect(derived).toMatchObject({
      estado: 'derivada',
      router_estado: 'derivado',
      area: 'ventas_api',
      inbox_fijo: 'ventas_api',
    });
    expect(
      await q(
        `SELECT d.area_origen, d.area_destino, d.menu_option_selected, d.motivo, t.area, t.estado
           FROM derivaciones d JOIN tickets t ON t.id = d.ticket_id WHERE d.conversacion_id = $1`,
        [derived.id],
      ),
    ).toEqual([
      {
        area_origen: 'ventas_api',
        area_destino: 'ventas_api',
        menu_option_selected: f.options.inscribir,
        motivo: 'Inscripción - Curso: AT',
        area: 'ventas_api',
        estado: 'abierto',
      },
    ]);
    // The agents see the whole funnel: the ad message, every bot message, each tap, the 🤖 lines.
    const chat = await chatOf(derived.id);
    expect(chat.map((m) => [m.direccion, m.remitente_tipo])).toEqual([
      ['entrante', 'contacto'],
      ['entrante', 'sistema'],
      ['saliente', 'bot'],
      ['saliente', 'bot'],
      ['saliente', 'bot'],
      ['entrante', 'contacto'],
      ['saliente', 'bot'],
      ['saliente', 'bot'],
      ['entrante', 'contacto'],
      ['entrante', 'sistema'],
      ['saliente', 'bot'],
    ]);
    expect(chat[1]!.mensaje).toBe('🤖 Ingreso CTWA - Curso: AT');
    expect(chat[9]!.mensaje).toBe('🤖 Inscripción - Curso: AT');

    // A stale tap after the hand-off (the old list is still on the lead's phone): not executed.
    const sends = f.sentTo(phone).length;
    await f.tap(phone, f.options.inscribir);
    expect(f.sentTo(phone)).toHaveLength(sends);
    expect(await tapsOf(phone)).toHaveLength(2);
    expect(await q(`SELECT count(*)::int AS n FROM derivaciones WHERE conversacion_id = $1`, [derived.id])).toEqual([
      { n: 1 },
    ]);
  });

  it('when a lead taps an option of another course, then it is answered with its current menu and nothing is executed', async () => {
    const phone = '5491170000002';
    await f.adClick(phone, AD_AT);
    const sends = f.sentTo(phone).length;
    await f.tap(phone, f.otherCourseOption);
    const reply = f.sentTo(phone).slice(sends);
    expect(reply).toHaveLength(1);
    expect(rowIds(reply[0]!.body)).toEqual([
      f.options.precio,
      f.options.modalidad,
      f.options.asesor,
      f.options.inscribir,
    ]);
    expect(await tapsOf(phone)).toEqual([]);
    expect((await sessionsOf(phone))[0]).toMatchObject({ interacciones: 0, estado: 'activo' });
  });

  it('when an agent closes the conversation ("Fin Conv") and the lead writes again, then its open session ends (finalizado) and the buttons come back', async () => {
    const phone = '5491170000002'; // the previous test's lead, in AT's option list
    const conv = await conversationOf(phone);
    // Fin Conv (CH:314-319): estado cerrada, the flags cleared.
    await q(
      `UPDATE conversaciones SET estado = 'cerrada', desconectado_wsp4 = false, inbox_fijo = NULL WHERE id = $1`,
      [conv.id],
    );
    await f.say(phone, 'hola otra vez');
    expect(rowIds(f.sentTo(phone).at(-1)!.body)).toEqual(['tipo_curso', 'tipo_especializacion', 'hablar_agente']);
    expect(await sessionsOf(phone)).toEqual([
      expect.objectContaining({ curso_id: f.facts.ids.cursoAt, estado: 'finalizado' }),
      expect.objectContaining({ curso_id: null, origen: 'directo', estado: 'activo' }),
    ]);
  });

  it('when a lead clicks an unknown ad, then it gets the direct-entry buttons and its click is stored with its ad', async () => {
    const phone = '5491170000003';
    const before = await executions();
    await f.adClick(phone, '999999999999', { clid: 'clid-unknown' });
    const sent = f.sentTo(phone);
    expect(sent).toHaveLength(1);
    expect(rowIds(sent[0]!.body)).toEqual(['tipo_curso', 'tipo_especializacion', 'hablar_agente']);
    expect(await executions()).toEqual(before);
    const conv = await conversationOf(phone);
    expect((await chatOf(conv.id))[0]).toMatchObject({
      direccion: 'entrante',
      mensaje: 'Hola, quiero más información',
    });
    expect(await sessionsOf(phone)).toEqual([
      expect.objectContaining({ curso_id: null, origen: 'ctwa', ad_id: '999999999999', ctwa_clid: 'clid-unknown' }),
    ]);

    // Direct entry from the buttons: courses list, then a course's menu on the same lead row.
    await f.tap(phone, 'tipo_curso', { button: true });
    expect(rowIds(f.sentTo(phone).at(-1)!.body)).toEqual([
      `curso_${f.facts.ids.cursoTea}`,
      `curso_${f.facts.ids.cursoAt}`,
    ]);
    await f.tap(phone, `curso_${f.facts.ids.cursoAt}`);
    expect(rowIds(f.sentTo(phone).at(-1)!.body)).toHaveLength(4);
    expect(await sessionsOf(phone)).toEqual([
      expect.objectContaining({ curso_id: f.facts.ids.cursoAt, origen: 'ctwa', interacciones: 1 }),
    ]);
  });

  it('when a web lead names its course, then the course is found without accents or case, and a course without options goes to an advisor', async () => {
    const phone = '5491170000004';
    await f.say(phone, 'Hola! Quisiera más información sobre el curso ACOMPANANTE terapeutico en la web');
    expect(rowIds(f.sentTo(phone).at(-1)!.body)).toHaveLength(4);
    expect(await sessionsOf(phone)).toEqual([
      expect.objectContaining({ curso_id: f.facts.ids.cursoAt, origen: 'web' }),
    ]);
    const conv = await conversationOf(phone);
    expect((await chatOf(conv.id)).map((m) => m.mensaje)).toContain('🤖 Ingreso Web - Curso: AT');

    // The cohort's name ("ATF - Curso de Abordaje del TEA - Marzo 2026"): TEA has no funnel options.
    const other = '5491170000005';
    await f.say(other, 'Hola, quiero info sobre el curso Abordaje del TEA en la web');
    expect(textOf(f.sentTo(other).at(-1)!.body)).toContain('Abordaje del TEA');
    expect(await q(`SELECT menu_option_selected, motivo FROM derivaciones WHERE telefono = $1`, [`+${other}`])).toEqual(
      [{ menu_option_selected: `curso_${f.facts.ids.cursoTea}`, motivo: 'Ingreso Web - Curso: TEA (sin menú)' }],
    );
    expect(await sessionsOf(other)).toEqual([
      expect.objectContaining({ curso_id: f.facts.ids.cursoTea, origen: 'web', estado: 'derivado' }),
    ]);
  });

  it('when a returning lead clicks the ad of a course it was already derived for, then its one session is reopened with the new click', async () => {
    const phone = '5491188880006'; // the fixture's Elena: AT session 'derivado' from psi-automations
    await f.adClick(phone, AD_AT, { clid: 'clid-elena-2' });
    expect(rowIds(f.sentTo(phone).at(-1)!.body)).toHaveLength(4);
    expect(await sessionsOf(phone)).toEqual([
      expect.objectContaining({
        curso_id: f.facts.ids.cursoAt,
        origen: 'ctwa',
        estado: 'activo',
        ctwa_clid: 'clid-elena-2',
        interacciones: 3,
      }),
    ]);
  });

  it('when the Graph simulator posts an ad click and a tap (POST /__sim/inbound), then the funnel runs without Meta', async () => {
    const phone = '5491170000007';
    const post = async (message: Record<string, unknown>) => {
      const res = await fetch(`${f.rig.sim.url}/__sim/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message, phoneNumberId: VENTAS_PNID, name: 'Simulada' }),
      });
      expect(res.status).toBe(200);
      await f.rig.settle();
    };
    await post({ kind: 'ad_click', from: phone, adId: AD_AT });
    expect(rowIds(f.sentTo(phone).at(-1)!.body)).toHaveLength(4);
    await post({ kind: 'tap', from: phone, id: f.options.modalidad });
    expect(textOf(f.sentTo(phone).at(-1)!.body)).toBe('Online en vivo');
    await post({ kind: 'text', from: '5491170000008', text: 'Hola, info sobre el curso AT en la web' });
    expect(await sessionsOf('5491170000008')).toEqual([
      expect.objectContaining({ origen: 'web', curso_id: f.facts.ids.cursoAt }),
    ]);
  });

  it('when webhooks are redelivered, then nothing is counted, written or sent twice', async () => {
    const phone = '5491170000006';
    const click = await f.adClick(phone, AD_AT, { wamid: 'wamid.redelivery-click' });
    const tap = await f.tap(phone, f.options.modalidad, { wamid: 'wamid.redelivery-tap' });
    const snapshot = async () => ({
      executions: await executions(),
      sessions: await sessionsOf(phone),
      taps: await tapsOf(phone),
      sends: f.sentTo(phone).length,
      logs: await q(
        `SELECT count(*)::int AS n FROM mensajes m JOIN conversaciones c ON c.id = m.conversacion_id WHERE c.telefono = $1`,
        [`+${phone}`],
      ),
    });
    const first = await snapshot();
    await f.post(click);
    await f.post(tap);
    await f.post(click);
    expect(await snapshot()).toEqual(first);
  });
});
