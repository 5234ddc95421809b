import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { flatBody, rawConnection, rawUpsert, evolutionMessageKey } from '../../src/simulator/evolution/payloads.js';
import { postEvolutionWebhook } from '../../src/simulator/evolution/webhook-poster.js';
import { signEvolutionJwt } from '../../src/evolution/webhook-auth.js';
import { EVO_KEY, EvolutionRig, INBOX_SECRET, LINES, q, q1, type LineCode } from '../helpers/evolution-rig.js';
import { startFakeInbox } from '../helpers/fake-inbox.js';
import { resetDatabase, truncateData } from '../helpers/reset-db.js';

const rig = new EvolutionRig();
const hook = (line: LineCode) => `${rig.url}/webhook/evolution/${line}`;
const post = (line: LineCode, body: unknown, mode: 'bearer' | 'apikey' | 'jwt' = 'bearer') =>
  postEvolutionWebhook(hook(line), body, LINES[line].secret, mode);

describe('Evolution API lines', () => {
  beforeAll(async () => {
    await resetDatabase();
    await rig.start();
  }, 60_000);
  afterAll(async () => {
    await rig.stop();
  });
  beforeEach(async () => {
    await truncateData();
    rig.sim.reset();
    await rig.configureLines();
  });

  it('when raw and flat payloads of every line are posted 20 times in parallel and again after a restart, then each is stored once on its line with the right contact', async () => {
    const lines = Object.keys(LINES) as LineCode[];
    const sent = lines.flatMap((line, i) => {
      const phone = `54911555000${i}1`;
      const rawId = evolutionMessageKey();
      const flatId = evolutionMessageKey();
      return [
        {
          line,
          phone,
          id: rawId,
          body: rawUpsert({ instance: LINES[line].instancia, from: phone, id: rawId, text: `raw ${line}` }),
        },
        {
          line,
          phone,
          id: flatId,
          body: flatBody({ telefono: `+${phone}`, mensaje: `flat ${line}`, messageId: flatId }),
        },
      ];
    });
    const storm = async () => {
      const answers = await Promise.all(sent.flatMap((s) => Array.from({ length: 20 }, () => post(s.line, s.body))));
      expect(answers.map((a) => a.status).every((s) => s === 200)).toBe(true);
    };
    await storm();
    await rig.settle();
    await rig.restart();
    await storm();
    await rig.settle();
    for (const s of sent) {
      const rows = await q<{ n: number; linea_origen: string; telefono: string; direccion: string }>(
        `SELECT count(*) OVER ()::int AS n, c.linea_origen, ct.telefono, m.direccion
           FROM mensajes m JOIN conversaciones c ON c.id = m.conversacion_id JOIN contactos ct ON ct.id = c.contacto_id
          WHERE m.whatsapp_message_id = $1`,
        [`evo:${LINES[s.line].instancia}:${s.id}`],
      );
      expect(rows).toEqual([{ n: 1, linea_origen: s.line, telefono: `+${s.phone}`, direccion: 'entrante' }]);
    }
    // One conversation per customer per line; the inbox note went once to each new customer.
    expect(await q1(`SELECT count(*)::int AS n FROM conversaciones`)).toEqual({ n: lines.length });
    expect(rig.sim.sent.map((m) => m.number).sort()).toEqual(lines.map((_, i) => `54911555000${i}1`).sort());
  }, 90_000);

  it('when the secret is wrong, missing, only in the body, or the line unknown, then nothing is stored', async () => {
    const body = rawUpsert({
      instance: LINES.alumnos.instancia,
      from: '5491155500099',
      text: 'hola',
      apikey: LINES.alumnos.secret,
    });
    const answers = await Promise.all([
      postEvolutionWebhook(hook('alumnos'), body, 'wrong-secret-wrong-secret', 'bearer'),
      postEvolutionWebhook(hook('alumnos'), body, 'wrong-secret-wrong-secret', 'apikey'),
      postEvolutionWebhook(hook('alumnos'), body, LINES.administracion.secret, 'bearer'),
      postEvolutionWebhook(hook('alumnos'), body, '', 'none'),
      postEvolutionWebhook(`${rig.url}/webhook/evolution/nadie`, body, LINES.alumnos.secret),
      postEvolutionWebhook(
        hook('alumnos'),
        body,
        signEvolutionJwt(LINES.alumnos.secret, Math.floor(Date.now() / 1000) - 3600),
        'bearer',
      ),
    ]);
    expect(answers.map((a) => a.status)).toEqual([403, 403, 403, 401, 404, 403]);
    expect(await q1(`SELECT count(*)::int AS n FROM router_eventos`)).toEqual({ n: 0 });
    // The same body with the line's credential (header, or Evolution's jwt_key mode) is accepted.
    expect((await post('alumnos', body, 'jwt')).status).toBe(200);
    expect((await post('alumnos', body, 'apikey')).status).toBe(200);
    expect(await q1(`SELECT count(*)::int AS n FROM router_eventos`)).toEqual({ n: 1 });
  });

  it('when the line is taken from the payload instance, then it must still present that line secret', async () => {
    const body = rawUpsert({ instance: LINES.comunidad.instancia, from: '5491155500077', text: 'hola' });
    expect((await postEvolutionWebhook(`${rig.url}/webhook/evolution`, body, LINES.alumnos.secret)).status).toBe(403);
    expect((await postEvolutionWebhook(`${rig.url}/webhook/evolution`, body, LINES.comunidad.secret)).status).toBe(200);
    await rig.settle();
    expect(await q(`SELECT linea_origen FROM conversaciones`)).toEqual([{ linea_origen: 'comunidad' }]);
  });

  it('when staff type on the line phone (fromMe), then it is the agent message Teléfono and nothing is answered', async () => {
    const instance = LINES.ventas.instancia;
    await post('ventas', rawUpsert({ instance, from: '5491155500011', text: 'hola', pushName: 'Lucía' }));
    await rig.settle();
    const notes = rig.sim.sent.length;
    await post(
      'ventas',
      rawUpsert({ instance, from: '5491155500011', text: 'te paso el link', fromMe: true, pushName: 'Ventas PSI' }),
    );
    await post('ventas', flatBody({ telefono: '5491155500011', mensaje: 'y el precio', fromMe: true }));
    await rig.settle();
    expect(
      await q(
        `SELECT direccion, remitente_tipo, remitente_nombre, mensaje FROM mensajes ORDER BY remitente_tipo, mensaje`,
      ),
    ).toEqual([
      { direccion: 'saliente', remitente_tipo: 'agente', remitente_nombre: 'Teléfono', mensaje: 'te paso el link' },
      { direccion: 'saliente', remitente_tipo: 'agente', remitente_nombre: 'Teléfono', mensaje: 'y el precio' },
      { direccion: 'saliente', remitente_tipo: 'bot', remitente_nombre: 'Router VENTAS', mensaje: expect.any(String) },
      { direccion: 'entrante', remitente_tipo: 'contacto', remitente_nombre: 'Lucía', mensaje: 'hola' },
    ]);
    expect(rig.sim.sent.length).toBe(notes);
    // The staff's name never becomes the customer's.
    expect(await q(`SELECT nombre FROM contactos`)).toEqual([{ nombre: 'Lucía' }]);
  });

  it('when a customer reacts (raw or flat), then the reaction is where the CRM shows reactions, never a bubble', async () => {
    const instance = LINES.alumnos.instancia;
    const target = evolutionMessageKey();
    await post('alumnos', rawUpsert({ instance, from: '5491155500022', id: target, text: '¿cuándo empieza?' }));
    await rig.settle();
    await post(
      'alumnos',
      rawUpsert({ instance, from: '5491155500022', message: { reactionMessage: { key: { id: target }, text: '👍' } } }),
    );
    await rig.settle();
    expect(
      await q(
        `SELECT r.emoji, r.usuario_id FROM mensaje_reacciones r JOIN mensajes m ON m.id = r.mensaje_id WHERE m.whatsapp_message_id = $1`,
        [`evo:${instance}:${target}`],
      ),
    ).toEqual([{ emoji: '👍', usuario_id: null }]);
    await post('alumnos', flatBody({ telefono: '5491155500022', reactionTo: target, emoji: '❤️' }));
    await rig.settle();
    expect(await q(`SELECT emoji FROM mensaje_reacciones`)).toEqual([{ emoji: '❤️' }]);
    expect(await q1(`SELECT count(*)::int AS n FROM mensajes WHERE direccion = 'entrante'`)).toEqual({ n: 1 });
  });

  it('when a @lid chat names its phone in remoteJidAlt, then the contact is the phone with the lid as second key, not the line number in sender', async () => {
    const instance = LINES.administracion.instancia;
    await post(
      'administracion',
      rawUpsert({
        instance,
        from: '204812345678901@lid',
        remoteJidAlt: '5491155500033',
        lineNumber: '5491100009999',
        text: 'hola',
      }),
    );
    await post(
      'administracion',
      rawUpsert({ instance, from: '120363025246125244@g.us', participant: '5491155500044', text: 'grupo' }),
    );
    await rig.settle();
    expect(await q(`SELECT telefono, wa_user_id FROM contactos ORDER BY telefono`)).toEqual([
      { telefono: '+5491155500033', wa_user_id: '204812345678901@lid' },
      { telefono: '120363025246125244@g.us', wa_user_id: '120363025246125244@g.us' },
    ]);
    // The group is stored and never answered; the new customer gets the line's note.
    expect(rig.sim.sent.map((m) => m.number)).toEqual(['5491155500033']);
  });

  it('when an agent writes to an Evolution conversation, then sendText gets it once and the acks move its ticks', async () => {
    const instance = LINES.comunidad.instancia;
    await post('comunidad', rawUpsert({ instance, from: '5491155500055', text: 'hola' }));
    await rig.settle();
    const { id } = await q1<{ id: string }>(`SELECT id FROM conversaciones`);
    const res = await rig.admin('/admin/messages', {
      method: 'POST',
      body: JSON.stringify({ conversationId: id, text: 'Hola, soy Marta', agentName: 'Marta' }),
    });
    expect(res.status).toBe(202);
    await rig.settle();
    const mine = rig.sim.sent.filter((m) => m.text === 'Hola, soy Marta');
    expect(mine).toEqual([expect.objectContaining({ instance, path: 'sendText', number: '5491155500055' })]);
    await expect
      .poll(() => q(`SELECT estado_envio, whatsapp_message_id FROM mensajes WHERE remitente_nombre = 'Marta'`), {
        timeout: 10_000,
      })
      .toEqual([{ estado_envio: 'read', whatsapp_message_id: `evo:${instance}:${mine[0]!.id}` }]);
  });

  it('when a line has its own apikey, then its sends carry it instead of EVOLUTION_API_KEY', async () => {
    const instance = LINES.administracion.instancia;
    rig.sim.setInstanceKey(instance, 'administracion-own-token');
    const put = await rig.admin('/admin/lines/administracion', {
      method: 'PUT',
      body: JSON.stringify({
        nombre: 'Administración',
        tipo: 'evolution',
        flujo: 'inbox',
        instancia: instance,
        apikey: 'administracion-own-token',
      }),
    });
    expect(put.status).toBe(200);
    await post('administracion', rawUpsert({ instance, from: '5491155500081', text: 'hola' }));
    await rig.settle();
    expect(rig.sim.sent.map((m) => [m.instance, m.auth])).toEqual([[instance, 'instance']]);
    // The secret was kept by the PUT that did not repeat it: webhooks are still accepted.
    expect(await q1(`SELECT count(*)::int AS n FROM mensajes WHERE direccion = 'entrante'`)).toEqual({ n: 1 });
  });

  it('when the router is killed -9 while an agent message is being sent, then after restart sendText has it exactly once', async () => {
    const instance = LINES.alumnos.instancia;
    await post('alumnos', rawUpsert({ instance, from: '5491155500066', text: 'hola' }));
    await rig.settle();
    const { id } = await q1<{ id: string }>(`SELECT id FROM conversaciones`);
    const before = rig.sim.requests;
    rig.sim.script([{ kind: 'timeout' }]);
    expect(
      (
        await rig.admin('/admin/messages', {
          method: 'POST',
          body: JSON.stringify({ conversationId: id, text: 'Te escribo por la inscripción', agentName: 'Marta' }),
        })
      ).status,
    ).toBe(202);
    await expect.poll(() => rig.sim.requests, { timeout: 10_000 }).toBeGreaterThan(before);
    await rig.restart(true);
    await rig.settle(60_000);
    expect(rig.sim.sent.filter((m) => m.text === 'Te escribo por la inscripción')).toHaveLength(1);
    expect(
      await q(
        `SELECT estado FROM router_outbox WHERE mensaje_id IS NOT NULL AND payload->'text'->>'body' = 'Te escribo por la inscripción'`,
      ),
    ).toEqual([{ estado: 'enviado' }]);
  }, 90_000);

  it('when Evolution answers 500, then "Connection Closed", then a timeout, then the agent message is retried and sent once', async () => {
    const instance = LINES.ventas.instancia;
    await post('ventas', rawUpsert({ instance, from: '5491155500071', text: 'hola' }));
    await rig.settle();
    const { id } = await q1<{ id: string }>(`SELECT id FROM conversaciones`);
    rig.sim.script([{ kind: 'http_error', status: 500 }, { kind: 'disconnected' }, { kind: 'timeout' }]);
    const res = await rig.admin('/admin/messages', {
      method: 'POST',
      body: JSON.stringify({ conversationId: id, text: 'seguimos por acá', agentName: 'Marta' }),
    });
    expect(res.status).toBe(202);
    await rig.settle(60_000);
    expect(rig.sim.sent.filter((m) => m.text === 'seguimos por acá')).toHaveLength(1);
    expect(
      await q(`SELECT estado, intentos FROM router_outbox WHERE payload->'text'->>'body' = 'seguimos por acá'`),
    ).toEqual([{ estado: 'enviado', intentos: 4 }]);
  }, 60_000);

  it('when an instance reports its connection closed, then /ready lists it and stays 200; GET /admin/lines never shows secrets', async () => {
    expect((await post('ventas', rawConnection(LINES.ventas.instancia, 'close'))).status).toBe(200);
    const ready = await fetch(`${rig.url}/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { issues: string[] }).issues).toContain('evolution_disconnected:ventas');
    const metrics = await (await fetch(`${rig.url}/metrics`)).text();
    expect(metrics).toContain('psi_router_evolution_connected{line="ventas"} 0');
    expect(metrics).toContain('psi_router_evolution_connected{line="alumnos"} -1');
    const refused = await rig.admin('/admin/lines/ventas', {
      method: 'PUT',
      body: JSON.stringify({ nombre: 'Ventas', tipo: 'evolution', flujo: 'menu', instancia: LINES.ventas.instancia }),
    });
    expect(refused.status).toBe(400);
    const listed = await (await rig.admin('/admin/lines')).text();
    for (const l of Object.values(LINES)) expect(listed).not.toContain(l.secret);
    expect(JSON.parse(listed).lines.find((l: { codigo: string }) => l.codigo === 'ventas')).toMatchObject({
      tipo: 'evolution',
      instancia: LINES.ventas.instancia,
      tiene_webhook_secreto: true,
      conexion_estado: 'close',
    });
  });

  it("when a customer writes on an Evolution line, then the message reaches the area's inbox (n8n)", async () => {
    const inbox = await startFakeInbox(INBOX_SECRET);
    try {
      await q(`UPDATE router_areas SET inbox_webhook_url = $1 WHERE id = 'alumnos'`, [`${inbox.url}/alumnos`]);
      await post('alumnos', rawUpsert({ instance: LINES.alumnos.instancia, from: '5491155500091', text: 'consulta' }));
      const [delivery] = await inbox.waitFor(1);
      expect(delivery).toMatchObject({
        signatureValid: true,
        event: 'message',
        body: { line: { code: 'alumnos' }, message: { text: 'consulta' }, contact: { phone: '+5491155500091' } },
      });
    } finally {
      await q(`UPDATE router_areas SET inbox_webhook_url = NULL WHERE id = 'alumnos'`);
      await inbox.close();
    }
  });

  it('when Evolution traffic flowed, then no log line holds a phone, a text, a name, a secret or an apikey', () => {
    const all = rig.logLines().join('\n');
    expect(all).toContain('evolution');
    for (const forbidden of [
      '5491155500',
      '54911555000',
      'te paso el link',
      'Hola, soy Marta',
      'Lucía',
      'consulta',
      EVO_KEY,
      INBOX_SECRET,
      ...Object.values(LINES).map((l) => l.secret),
    ]) {
      expect(all.includes(forbidden), `logs contain ${forbidden}`).toBe(false);
    }
  });
});

describe('Evolution API lines: media', () => {
  const PNG = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
    'base64',
  );
  const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2048, 7)]);
  let files: Server;
  let filesUrl = '';

  beforeAll(async () => {
    await resetDatabase();
    files = createServer((req, res) => {
      res.writeHead(req.url === '/foto.jpg' ? 200 : 404, { 'content-type': 'image/jpeg' });
      res.end(req.url === '/foto.jpg' ? JPEG : '');
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    await rig.start();
  }, 60_000);
  afterAll(async () => {
    await rig.stop();
    await new Promise((r) => files.close(r));
  });

  it('when an image comes as base64 (raw) and as a URL (flat), then both end as a stored file behind a media_url the CRM renders', async () => {
    await truncateData();
    await rig.configureLines();
    const instance = LINES.alumnos.instancia;
    const inline = evolutionMessageKey();
    const linked = evolutionMessageKey();
    await post(
      'alumnos',
      rawUpsert({
        instance,
        from: '5491155500088',
        id: inline,
        message: {
          imageMessage: { caption: 'mi comprobante', mimetype: 'image/png', url: 'https://mmg.whatsapp.net/enc' },
          base64: PNG.toString('base64'),
        },
      }),
    );
    await post(
      'alumnos',
      flatBody({
        telefono: '5491155500088',
        messageId: linked,
        mediaType: 'image',
        mediaUrl: `${filesUrl}/foto.jpg`,
        mensaje: 'otra',
      }),
    );
    await rig.settle();
    for (const [id, bytes] of [
      [inline, PNG],
      [linked, JPEG],
    ] as const) {
      const row = await q1<{ media_url: string; media_type: string; mensaje: string }>(
        `SELECT media_url, media_type, mensaje FROM mensajes WHERE whatsapp_message_id = $1`,
        [`evo:${instance}:${id}`],
      );
      expect(row.media_type).toBe('image');
      const link = new URL(row.media_url);
      const res = await fetch(`${rig.url}${link.pathname}${link.search}`);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    }
    expect(await q(`SELECT estado FROM router_media_jobs ORDER BY id`)).toEqual([
      { estado: 'hecho' },
      { estado: 'hecho' },
    ]);
  }, 60_000);
});

describe('Evolution API lines without EVOLUTION_API_URL', () => {
  const dry = new EvolutionRig({ EVOLUTION_API_URL: '' });
  beforeAll(async () => {
    await resetDatabase();
    await dry.start();
    await dry.configureLines();
  }, 60_000);
  afterAll(async () => {
    await dry.stop();
  });

  it('when the router would answer, then it is a dry run: stored and logged, nothing sent', async () => {
    const body = rawUpsert({ instance: LINES.comunidad.instancia, from: '5491155500093', text: 'hola' });
    expect(
      (await postEvolutionWebhook(`${dry.url}/webhook/evolution/comunidad`, body, LINES.comunidad.secret)).status,
    ).toBe(200);
    await dry.settle();
    expect(await q(`SELECT estado FROM router_outbox`)).toEqual([{ estado: 'omitido' }]);
    expect(await q1(`SELECT count(*)::int AS n FROM mensajes`)).toEqual({ n: 2 });
    expect(dry.sim.sent).toEqual([]);
    expect(dry.logLines().some((l) => l.includes('DRY RUN: would send through Evolution API'))).toBe(true);
  });
});
