import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { startRoutingRig, type RoutingRig } from '../helpers/routing-bench.js';
import { readJson } from '../helpers/start-router.js';

const TOKEN = 'admin-hardening-token-5c0e9a1f3b7d2468';
const PHONE = '5491188880001';

describe('admin API hardening', () => {
  let rig: RoutingRig;
  const logLines: string[] = [];
  /** `from` is the client address Nginx forwards (the router trusts the loopback hop). */
  const admin = (path: string, init: RequestInit & { token?: string; from?: string } = {}) =>
    fetch(`${rig.router.url}${path}`, {
      ...init,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${init.token ?? TOKEN}`,
        ...(init.from ? { 'x-forwarded-for': init.from } : {}),
        ...(init.headers as Record<string, string>),
      },
    });
  const conversation = async () => {
    await rig.router.postWebhook(
      inboundEnvelope(textMessage({ from: PHONE, body: 'hola', timestamp: Math.floor(Date.now() / 1000) - 30 })),
    );
    await rig.settle();
    return (await withClient((c) => c.query<{ id: string }>('SELECT id FROM conversaciones'))).rows[0]!.id;
  };
  const send = (body: unknown, key: string) =>
    admin('/admin/messages', { method: 'POST', headers: { 'idempotency-key': key }, body: JSON.stringify(body) });

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

  it('when one address sends ten wrong tokens, then it gets 429 with Retry-After — even with the right token — while other addresses are unaffected', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await admin('/admin/stats', { token: `guess-${i}`, from: '203.0.113.7' })).status).toBe(401);
    }
    const blocked = await admin('/admin/stats', { from: '203.0.113.7' });
    expect(blocked.status).toBe(429);
    expect((await readJson(blocked)).error.code).toBe('RATE_LIMITED');
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await admin('/admin/stats', { token: 'guess-11', from: '203.0.113.7' })).status).toBe(429);
    expect((await admin('/admin/stats', { from: '198.51.100.2' })).status).toBe(200);
    expect(logLines.some((l) => l.includes('"outcome":"throttled"') && l.includes('203.0.113.7'))).toBe(true);
  });

  it('when an Idempotency-Key is longer than 200 characters, then 400 and nothing is stored or sent', async () => {
    const id = await conversation();
    const res = await send({ conversationId: id, text: 'clave larga' }, 'k'.repeat(201));
    expect(res.status).toBe(400);
    expect((await readJson(res)).error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'Idempotency-Key: must be 1 to 200 characters',
    });
    expect((await send({ conversationId: id, text: 'clave justa' }, 'k'.repeat(200))).status).toBe(202);
    const rows = await withClient((c) =>
      c.query(`SELECT mensaje FROM mensajes WHERE remitente_tipo = 'agente' ORDER BY mensaje`),
    );
    expect(rows.rows).toEqual([{ mensaje: 'clave justa' }]);
  });

  it('when a key is reused with a different body, then 422 and the second message is neither stored nor sent; the same body again is a duplicate', async () => {
    const id = await conversation();
    expect((await send({ conversationId: id, text: 'primero' }, 'crm-reuse-1')).status).toBe(202);
    const reused = await send({ conversationId: id, text: 'segundo, otro texto' }, 'crm-reuse-1');
    expect(reused.status).toBe(422);
    expect((await readJson(reused)).error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // The same request spelled differently (key order, whitespace) is the same request.
    const again = await admin('/admin/messages', {
      method: 'POST',
      headers: { 'idempotency-key': 'crm-reuse-1' },
      body: `{ "text": "primero",  "conversationId": "${id}" }`,
    });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'duplicate' });
    await rig.settle();
    const stored = await withClient((c) =>
      c.query<{ mensaje: string; metadata: Record<string, unknown> }>(
        `SELECT mensaje, metadata FROM mensajes WHERE remitente_tipo = 'agente'`,
      ),
    );
    expect(stored.rows.map((r) => r.mensaje)).toEqual(['primero']);
    expect(stored.rows[0]!.metadata).toMatchObject({
      idempotency_key: 'crm-reuse-1',
      request_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(rig.sim.sent.flatMap((m) => (m.type === 'text' ? [(m.body['text'] as { body: string }).body] : []))).toEqual(
      ['primero'],
    );
  });
});
