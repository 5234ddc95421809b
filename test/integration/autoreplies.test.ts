import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AD_AT, q, rowIds, startFlowsRig, textOf, type FlowsRig } from '../helpers/flows-rig.js';

/**
 * Out-of-hours autoreplies (FLOWS.md §B with §D's fixes) on both Cloud numbers, at times set by the
 * flows' clock switch (PUT /admin/clock): the band by the hour in Buenos Aires, the manual cut, the
 * cooldown per (contact, line), the agent guard, and the log row the statistics count.
 */
describe('autoreplies', () => {
  let f: FlowsRig;
  const logLines: string[] = [];
  beforeAll(async () => {
    f = await startFlowsRig({ LOG_LEVEL: 'debug' }, { logLines });
  }, 120_000);
  afterAll(async () => {
    await f?.close();
  });

  /** Moves the flows' clock so that "now" is `iso` (UTC). */
  const setClock = async (iso: string) => {
    const res = await f.admin('/admin/clock', {
      method: 'PUT',
      body: JSON.stringify({ offsetMs: Date.parse(iso) - Date.now() }),
    });
    expect(res.status).toBe(200);
  };
  const logOf = (phone: string) =>
    q<{ linea: string; franja: number; mensaje: string }>(
      `SELECT linea, franja, mensaje FROM autorespuestas_enviadas WHERE telefono = $1 ORDER BY enviado_at`,
      [phone],
    );
  const texts = (phone: string) => f.sentTo(phone).map((m) => textOf(m.body));
  const WSP4 = { line: 'wsp4' as const };

  it('when a customer writes to wsp4 at 23:30 in Buenos Aires, then band 1 goes first, the menu follows, and the log row and bot message are written', async () => {
    await setClock('2026-12-02T02:30:00Z'); // 23:30 in Buenos Aires (UTC-3)
    const phone = '5491171000001';
    await f.say(phone, 'hola', WSP4);
    const sent = f.sentTo(phone);
    expect(sent).toHaveLength(2);
    expect(textOf(sent[0]!.body)).toBe('Estamos fuera de horario');
    expect(rowIds(sent[1]!.body).length).toBeGreaterThan(0); // the main menu is still answered
    expect(await logOf(phone)).toEqual([{ linea: 'wsp4', franja: 1, mensaje: 'Estamos fuera de horario' }]);
    expect(
      await q(
        `SELECT m.direccion, m.remitente_tipo FROM mensajes m JOIN conversaciones c ON c.id = m.conversacion_id
          WHERE c.telefono = $1 AND m.mensaje = 'Estamos fuera de horario'`,
        [`+${phone}`],
      ),
    ).toEqual([{ direccion: 'saliente', remitente_tipo: 'bot' }]);

    // Within the 2 h cooldown: no second autoreply; 2 h later, again.
    await f.say(phone, 'hay alguien?', WSP4);
    expect(await logOf(phone)).toHaveLength(1);
    await setClock('2026-12-02T04:31:00Z');
    await f.say(phone, 'sigo esperando', WSP4);
    expect(await logOf(phone)).toHaveLength(2);
    expect(texts(phone).filter((t) => t === 'Estamos fuera de horario')).toHaveLength(2);
  });

  it('when customers write at 08:15 and at 15:00, then bands 2 and 3 answer; with the manual cut on, band 4 does', async () => {
    await setClock('2026-12-02T11:15:00Z'); // 08:15
    await f.say('5491171000002', 'hola', WSP4);
    expect(await logOf('5491171000002')).toEqual([{ linea: 'wsp4', franja: 2, mensaje: 'Abrimos a las 9' }]);
    await setClock('2026-12-02T18:00:00Z'); // 15:00
    await f.say('5491171000003', 'hola', WSP4);
    expect(await logOf('5491171000003')).toEqual([{ linea: 'wsp4', franja: 3, mensaje: 'En breve te respondemos' }]);
    // "Cortar" in the CRM's settings (AJ:276-316): activo = corte_activo = true.
    await q(
      `UPDATE config_autorespuestas SET activo = true, corte_activo = true, corte_timestamp = now() WHERE linea = 'wsp4'`,
    );
    await f.say('5491171000004', 'hola', WSP4);
    expect(await logOf('5491171000004')).toEqual([{ linea: 'wsp4', franja: 4, mensaje: 'Atención pausada' }]);
    // "Reanudar": both false → no autoreplies at all.
    await q(`UPDATE config_autorespuestas SET activo = false, corte_activo = false WHERE linea = 'wsp4'`);
    await f.say('5491171000005', 'hola', WSP4);
    expect(await logOf('5491171000005')).toEqual([]);
    await q(`UPDATE config_autorespuestas SET activo = true, corte_activo = false WHERE linea = 'wsp4'`);
  });

  it('when an agent wrote in the conversation 10 minutes ago, then no autoreply; 40 minutes ago, then one', async () => {
    await setClock('2026-12-02T02:30:00Z');
    for (const [phone, minutesAgo, expected] of [
      ['5491171000006', 10, 0],
      ['5491171000007', 40, 1],
    ] as const) {
      await f.say(phone, 'hola', WSP4); // first contact: an autoreply, and the conversation exists
      const [conv] = await q<{ id: string }>(`SELECT id FROM conversaciones WHERE telefono = $1`, [`+${phone}`]);
      // The CRM's send path (EN:189-208): an agent row without a phone.
      await q(
        `INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, remitente_nombre, "timestamp")
         VALUES ($1, 'Hola, te atiendo yo', 'text', 'saliente', 'agente', 'Ana', now() - $2 * interval '1 minute')`,
        [conv!.id, minutesAgo],
      );
      await setClock('2026-12-02T05:30:00Z'); // past the cooldown
      await f.say(phone, 'gracias', WSP4);
      expect((await logOf(phone)).length - 1).toBe(expected);
      await setClock('2026-12-02T02:30:00Z');
    }
  });

  it('on the ads number: off while the CRM has it off; once on, plain messages get it first and ad clicks and taps never do', async () => {
    await setClock('2026-12-02T02:30:00Z');
    await f.say('5491171000008', 'hola', { line: 'ventas_api' });
    expect(await logOf('5491171000008')).toEqual([]);
    expect(rowIds(f.sentTo('5491171000008')[0]!.body)).toEqual(['tipo_curso', 'tipo_especializacion', 'hablar_agente']);

    await q(`UPDATE config_autorespuestas SET activo = true WHERE linea = 'ventas_api'`);
    const phone = '5491171000009';
    await f.adClick(phone, AD_AT);
    await f.tap(phone, f.options.precio);
    expect(await logOf(phone)).toEqual([]);
    // Pinned after the ad entry: the text is the agents', and the customer still hears the office is closed.
    await f.say(phone, 'me pasás el temario?', { line: 'ventas_api' });
    expect(await logOf(phone)).toEqual([{ linea: 'ventas_api', franja: 1, mensaje: 'Fuera de horario' }]);
    expect(texts(phone).at(-1)).toBe('Fuera de horario');
    // The same contact on wsp4 has its own cooldown.
    await f.say(phone, 'hola', WSP4);
    expect((await logOf(phone)).map((r) => r.linea)).toEqual(['ventas_api', 'wsp4']);
  });

  it('when the flows and autoreplies ran, then the logs hold no phone number, message text or autoreply text', () => {
    const all = logLines.join('\n');
    expect(all).toContain('"autoreply":'); // the autoreply decisions were logged (debug)
    for (const forbidden of [
      '5491171000001',
      '5491171000009',
      'me pasás el temario',
      'Estamos fuera de horario',
      'Fuera de horario',
    ])
      expect(all.includes(forbidden), `logs contain ${forbidden}`).toBe(false);
  });
});
