import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { startRoutingRig, type RoutingRig } from '../helpers/routing-bench.js';
import { readJson, startRouter } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

const TOKEN = 'admin-test-token-0123456789';
const PHONE = '5491199990001';

describe('admin API', () => {
  let rig: RoutingRig;
  const logLines: string[] = [];
  const admin = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...(init.headers as Record<string, string>),
    };
    const token = init.token === undefined ? TOKEN : init.token;
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    return fetch(`${rig.router.url}${path}`, { ...init, headers });
  };
  const q = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    withClient(async (c) => (await c.query<T>(sql, params)).rows);
  const conversationOf = async (phone: string) =>
    (await q<{ id: string }>('SELECT id FROM conversaciones WHERE telefono = $1', [`+${phone}`]))[0]!.id;
  const hello = async (phone: string, timestamp = Math.floor(Date.now() / 1000) - 30) => {
    await rig.router.postWebhook(inboundEnvelope(textMessage({ from: phone, body: 'hola', timestamp })));
    await rig.settle();
  };

  beforeAll(async () => {
    await resetDatabase();
    rig = await startRoutingRig(
      { ADMIN_TOKEN: TOKEN, ADMIN_SEND_RATE_PER_SECOND: '1000', LOG_LEVEL: 'info' },
      { statuses: false, logLines },
    );
  });
  afterAll(async () => {
    await rig.close();
  });
  beforeEach(() => rig.reset());

  it.each([
    ['no header', null],
    ['a wrong token', 'not-the-token'],
    ['a token prefix', TOKEN.slice(0, 10)],
  ])(
    'when a request comes with %s, then 401 and that very request is audited as unauthorized, without the token',
    async (_name, token) => {
      const before = logLines.length;
      const res = await admin('/admin/stats', { token });
      expect(res.status).toBe(401);
      expect((await readJson(res)).error.code).toBe('UNAUTHORIZED');
      // This request's own line (by its request id), not any earlier case's.
      const requestId = res.headers.get('x-request-id');
      const lines = logLines.slice(before);
      const audited = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l['requestId'] === requestId && l['audit'] === true);
      expect(audited).toEqual([expect.objectContaining({ outcome: 'unauthorized', ip: expect.any(String) })]);
      if (token) expect(lines.some((l) => l.includes(token))).toBe(false);
    },
  );

  it('when ADMIN_TOKEN is not configured, then the admin API does not exist', async () => {
    const other = await startRouter(testConfig({ ADMIN_TOKEN: '' }), { sender: false, sweeper: false });
    try {
      const res = await fetch(`${other.url}/admin/stats`, { headers: { authorization: 'Bearer anything' } });
      expect(res.status).toBe(404);
    } finally {
      await other.stop();
    }
  });

  it('when stats are asked with the token, then conversations, locks, journal, outbox, thresholds and uptime come back, audited without the token', async () => {
    await hello(PHONE);
    const res = await admin('/admin/stats');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      mode: 'direct',
      conversations: { activa: 1 },
      journal: { hecho: 1 },
      locks: { count: 0 },
    });
    expect(body).toHaveProperty('uptimeS');
    expect(body).toHaveProperty('thresholds.messagesLastMinute', 1);
    expect(body).toHaveProperty('inFlight.scheduled', 0);
    const audit = logLines.filter(
      (l) => l.includes('"audit":true') && l.includes('/admin/stats') && l.includes('"outcome":"ok"'),
    );
    expect(audit.length).toBeGreaterThan(0);
    expect(logLines.some((l) => l.includes(TOKEN))).toBe(false);
  });

  it('when a conversation is reset or closed, then its state changes; an unknown id is 404 and a bad one 400', async () => {
    await hello(PHONE);
    await rig.router.postWebhook(
      inboundEnvelope(textMessage({ from: PHONE, body: '1', timestamp: Math.floor(Date.now() / 1000) - 20 })),
    );
    await rig.settle();
    const id = await conversationOf(PHONE);
    expect(await q('SELECT estado FROM conversaciones')).toEqual([{ estado: 'derivada' }]);
    expect((await admin(`/admin/conversations/${id}/reset`, { method: 'POST' })).status).toBe(200);
    expect(await q('SELECT estado, router_estado, area FROM conversaciones')).toEqual([
      { estado: 'activa', router_estado: 'menu_principal', area: 'wsp4' },
    ]);
    expect((await admin(`/admin/conversations/${id}/close`, { method: 'POST' })).status).toBe(200);
    expect(await q('SELECT estado FROM conversaciones')).toEqual([{ estado: 'cerrada' }]);
    expect(
      (await admin('/admin/conversations/00000000-0000-4000-8000-000000000000/close', { method: 'POST' })).status,
    ).toBe(404);
    const bad = await admin('/admin/conversations/not-a-uuid/close', { method: 'POST' });
    expect(bad.status).toBe(400);
    expect((await readJson(bad)).error.code).toBe('VALIDATION_FAILED');
  });

  it('when the CRM sends a text inside the window, then it is stored as an agent message, sent through the outbox and tracked', async () => {
    await hello(PHONE);
    const id = await conversationOf(PHONE);
    const res = await admin('/admin/messages', {
      method: 'POST',
      body: JSON.stringify({ conversationId: id, text: 'Hola Lucía, soy Ana de Administración', agentName: 'Ana' }),
    });
    expect(res.status).toBe(202);
    await rig.settle();
    const sent = rig.sim.sent.find(
      (m) => (m.body['text'] as { body?: string } | undefined)?.body === 'Hola Lucía, soy Ana de Administración',
    );
    expect(sent?.to).toBe(PHONE);
    // Accepted by Meta: the wamid is recorded; the ticks wait for Meta's own statuses (off in this rig).
    expect(
      await q(
        `SELECT remitente_tipo, remitente_nombre, direccion, estado_envio, enviado, eliminado, whatsapp_message_id FROM mensajes WHERE remitente_tipo = 'agente'`,
      ),
    ).toEqual([
      {
        remitente_tipo: 'agente',
        remitente_nombre: 'Ana',
        direccion: 'saliente',
        estado_envio: null,
        enviado: false,
        eliminado: false,
        whatsapp_message_id: sent!.wamid,
      },
    ]);
  });

  it('when the CRM retries a send with the same Idempotency-Key, then it is sent once', async () => {
    await hello(PHONE);
    const id = await conversationOf(PHONE);
    const send = () =>
      admin('/admin/messages', {
        method: 'POST',
        headers: { 'idempotency-key': 'crm-42' },
        body: JSON.stringify({ conversationId: id, text: 'una sola vez' }),
      });
    expect((await send()).status).toBe(202);
    const again = await send();
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'duplicate' });
    await rig.settle();
    expect(
      rig.sim.sent.filter((m) => (m.body['text'] as { body?: string } | undefined)?.body === 'una sola vez'),
    ).toHaveLength(1);
  });

  it('when the CRM sends one Idempotency-Key eight times at once, then one message is stored and sent, and the key is kept beside it', async () => {
    await hello(PHONE);
    const id = await conversationOf(PHONE);
    const send = () =>
      admin('/admin/messages', {
        method: 'POST',
        headers: { 'idempotency-key': 'crm-parallel-1' },
        body: JSON.stringify({ conversationId: id, text: 'en paralelo' }),
      });
    const answers = await Promise.all(Array.from({ length: 8 }, send));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 202]);
    await rig.settle();
    expect(
      rig.sim.sent.filter((m) => (m.body['text'] as { body?: string } | undefined)?.body === 'en paralelo'),
    ).toHaveLength(1);
    const stored = await q(`SELECT id, metadata->>'idempotency_key' AS k FROM mensajes WHERE mensaje = 'en paralelo'`);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.k).toBe('crm-parallel-1');
    expect(await q(`SELECT mensaje_id FROM router_idempotencia WHERE clave = 'crm-parallel-1'`)).toEqual([
      { mensaje_id: stored[0]!.id },
    ]);
  });

  it('when free-form text is sent outside the 24 h window, then 422, nothing goes out and the attempt is recorded fallido; a template goes out', async () => {
    await hello(PHONE, Math.floor(Date.now() / 1000) - 30 * 3600);
    const id = await conversationOf(PHONE);
    const before = rig.sim.sent.length;
    const res = await admin('/admin/messages', {
      method: 'POST',
      body: JSON.stringify({ conversationId: id, text: 'fuera de ventana' }),
    });
    expect(res.status).toBe(422);
    expect((await readJson(res)).error.code).toBe('OUTSIDE_WINDOW');
    expect(
      await q(`SELECT estado_envio, fallido, error_mensaje FROM mensajes WHERE mensaje = 'fuera de ventana'`),
    ).toEqual([
      {
        estado_envio: 'failed',
        fallido: true,
        error_mensaje: 'outside_24h_window: free-form message refused; use a template',
      },
    ]);
    const tpl = await admin('/admin/messages', {
      method: 'POST',
      body: JSON.stringify({ conversationId: id, template: { name: 'seguimiento', language: 'es_AR' } }),
    });
    expect(tpl.status).toBe(202);
    await rig.settle();
    expect(rig.sim.sent.slice(before).map((m) => m.type)).toEqual(['template']);
  });

  it('when the CRM writes first to a new number with a template, then contact and conversation are created on the line it names', async () => {
    const line = await admin('/admin/lines/wsp4', {
      method: 'PUT',
      body: JSON.stringify({ nombre: 'WSP4', tipo: 'cloud', phoneNumberId: '106540352242922', flujo: 'menu' }),
    });
    expect(line.status).toBe(201);
    const res = await admin('/admin/messages', {
      method: 'POST',
      body: JSON.stringify({ to: '+5491199990077', line: 'wsp4', template: { name: 'bienvenida', language: 'es' } }),
    });
    expect(res.status).toBe(202);
    await rig.settle();
    expect(rig.sim.sent.at(-1)).toMatchObject({ to: '5491199990077', phoneNumberId: '106540352242922' });
    expect(
      await q(`SELECT telefono, linea_origen, area FROM conversaciones WHERE telefono = '+5491199990077'`),
    ).toEqual([{ telefono: '+5491199990077', linea_origen: 'wsp4', area: 'wsp4' }]);
  });

  it('when a contact the CRM stored as +54 without the 9 gets a send, then the contact is found (not duplicated) and WhatsApp gets the number with its 9', async () => {
    await admin('/admin/lines/wsp4', {
      method: 'PUT',
      body: JSON.stringify({ nombre: 'WSP4', tipo: 'cloud', phoneNumberId: '106540352242922', flujo: 'menu' }),
    });
    await withClient((c) => c.query(`INSERT INTO contactos (telefono, origen) VALUES ('+541199990088', 'crm')`));
    const res = await admin('/admin/messages', {
      method: 'POST',
      body: JSON.stringify({ to: '+5491199990088', line: 'wsp4', template: { name: 'bienvenida', language: 'es' } }),
    });
    expect(res.status).toBe(202);
    await rig.settle();
    expect(rig.sim.sent.at(-1)?.to).toBe('5491199990088');
    expect(await q(`SELECT telefono FROM contactos WHERE telefono LIKE '+54%99990088'`)).toEqual([
      { telefono: '+541199990088' },
    ]);
  });

  it('when lines are configured, then they are listed, and bad or clashing lines are refused with the rule', async () => {
    const put = (codigo: string, body: unknown) =>
      admin(`/admin/lines/${codigo}`, { method: 'PUT', body: JSON.stringify(body) });
    expect(
      (await put('wsp4', { nombre: 'WSP4', tipo: 'cloud', phoneNumberId: '106540352242922', flujo: 'menu' })).status,
    ).toBe(201);
    const again = await put('wsp4', {
      nombre: 'WSP4 principal',
      tipo: 'cloud',
      phoneNumberId: '106540352242922',
      flujo: 'menu',
      ajustes: { storeBotReplies: false },
    });
    expect(again.status).toBe(200);
    const clash = await put('ventas_api', {
      nombre: 'Ventas',
      tipo: 'cloud',
      phoneNumberId: '106540352242922',
      flujo: 'inbox',
    });
    expect(clash.status).toBe(409);
    const bad = await put('WSP 4', { nombre: 'x', tipo: 'cloud', phoneNumberId: '1', flujo: 'menu' });
    expect(bad.status).toBe(400);
    expect((await readJson(bad)).error.code).toBe('VALIDATION_FAILED');
    expect((await put('ventas_api', { nombre: 'Ventas', tipo: 'cloud', flujo: 'inbox' })).status).toBe(400);
    expect(
      (
        await put('ventas_api', {
          nombre: 'Ventas',
          tipo: 'cloud',
          phoneNumberId: '200000000000009',
          flujo: 'inbox',
          ajustes: { nope: true },
        })
      ).status,
    ).toBe(400);
    const list = (await (await admin('/admin/lines')).json()) as {
      lines: { codigo: string; nombre: string; phone_number_id: string; flujo: string; ajustes: unknown }[];
    };
    expect(list.lines.map((l) => [l.codigo, l.nombre, l.phone_number_id, l.flujo, l.ajustes])).toEqual([
      ['wsp4', 'WSP4 principal', '106540352242922', 'menu', { storeBotReplies: false }],
    ]);
  });

  it('when the send body is wrong, then 400 with the rule that was broken', async () => {
    const res = await admin('/admin/messages', { method: 'POST', body: JSON.stringify({ text: 'sin destino' }) });
    expect(res.status).toBe(400);
    expect((await readJson(res)).error.message).toMatch(/conversationId/);
    const both = await admin('/admin/messages', {
      method: 'POST',
      body: JSON.stringify({
        conversationId: '00000000-0000-4000-8000-000000000000',
        text: 'x',
        template: { name: 'y', language: 'es' },
      }),
    });
    expect((await readJson(both)).error.message).toMatch(/exactly one of text or template/);
  });

  it('when more sends than the admin rate arrive in a second, then the excess gets 429 with Retry-After', async () => {
    await hello(PHONE);
    const id = await conversationOf(PHONE);
    const limited = await startRouter(testConfig({ ADMIN_TOKEN: TOKEN, ADMIN_SEND_RATE_PER_SECOND: '5' }), {
      sender: false,
      sweeper: false,
    });
    try {
      const burst = 12;
      const res = await Promise.all(
        Array.from({ length: burst }, (_, i) =>
          fetch(`${limited.url}/admin/messages`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ conversationId: id, text: `ráfaga ${i}` }),
          }),
        ),
      );
      const accepted = res.filter((r) => r.status === 202).length;
      const limitedOut = res.filter((r) => r.status === 429);
      // Windows are one second and fixed: the burst (milliseconds long) meets one window, or two if it
      // straddles a boundary, so 5 or up to 10 pass — never all 12, never fewer than the rate.
      expect(accepted).toBeGreaterThanOrEqual(5);
      expect(accepted).toBeLessThanOrEqual(10);
      expect(accepted + limitedOut.length).toBe(burst);
      expect(limitedOut.every((r) => r.headers.get('retry-after') === '1')).toBe(true);
    } finally {
      await limited.stop();
    }
  });

  it('when dead letters exist, then they are listed and replayed over HTTP', async () => {
    await hello(PHONE);
    await withClient((c) => c.query(`UPDATE router_eventos SET estado = 'muerto', error = 'simulated poison'`));
    const list = await admin('/admin/dead-letters');
    expect(list.status).toBe(200);
    const body = (await list.json()) as { events: { id: string; error: string }[]; jobs: unknown[] };
    expect(body.events).toHaveLength(1);
    expect(body.events[0]!.error).toBe('simulated poison');
    const replay = await admin('/admin/dead-letters/replay', {
      method: 'POST',
      body: JSON.stringify({ events: [body.events[0]!.id] }),
    });
    expect(await replay.json()).toEqual({ events: 1, jobs: 0 });
    await rig.settle();
    expect(await q(`SELECT estado FROM router_eventos`)).toEqual([{ estado: 'hecho' }]);
    const bad = await admin('/admin/dead-letters/replay', { method: 'POST', body: JSON.stringify({}) });
    expect(bad.status).toBe(400);
  });
});
