import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signBody } from '../../src/webhook/verify-signature.js';
import { bodyOf, inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { resetDatabase, truncateData, withClient } from '../helpers/reset-db.js';
import { startRouter, type RunningRouter, readJson } from '../helpers/start-router.js';
import { TEST_APP_SECRET, TEST_VERIFY_TOKEN, testConfig } from '../helpers/test-config.js';

const counts = () =>
  withClient(async (c) => {
    const r = await c.query<{ eventos: number; mensajes: number }>(
      `SELECT (SELECT count(*)::int FROM router_eventos) AS eventos, (SELECT count(*)::int FROM mensajes WHERE direccion = 'entrante') AS mensajes`,
    );
    return r.rows[0];
  });

describe('webhook ingress', () => {
  let router: RunningRouter;

  beforeAll(async () => {
    await resetDatabase();
    router = await startRouter(
      testConfig({ WHATSAPP_APP_SECRET: `other-app-secret,${TEST_APP_SECRET}`, WEBHOOK_BODY_LIMIT: '256kb' }),
    );
  });
  afterAll(async () => {
    await router.stop();
  });
  beforeEach(async () => {
    await truncateData();
  });

  describe('GET verification', () => {
    it.each(['/webhook', '/webhook/whatsapp'])(
      'when %s gets the right token, then it echoes the challenge as text',
      async (path) => {
        const res = await fetch(
          `${router.url}${path}?hub.mode=subscribe&hub.verify_token=${TEST_VERIFY_TOKEN}&hub.challenge=1158201444`,
        );
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(await res.text()).toBe('1158201444');
      },
    );

    it.each([
      ['wrong token', `hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`],
      ['wrong mode', `hub.mode=unsubscribe&hub.verify_token=${TEST_VERIFY_TOKEN}&hub.challenge=1`],
      ['no parameters', ''],
      ['token prefix only', `hub.mode=subscribe&hub.verify_token=${TEST_VERIFY_TOKEN.slice(0, 4)}&hub.challenge=1`],
    ])('when the request has %s, then 403', async (_name, query) => {
      const res = await fetch(`${router.url}/webhook?${query}`);
      expect(res.status).toBe(403);
      expect(await res.text()).not.toContain('1158201444');
    });
  });

  describe('POST signature', () => {
    const payload = () => inboundEnvelope(textMessage({ body: 'hola' }));

    it('when the signature header is missing, then 401 and nothing is stored', async () => {
      const res = await router.postWebhook(payload(), { secret: null });
      expect(res.status).toBe(401);
      expect((await readJson(res)).error.code).toBe('SIGNATURE_MISSING');
      expect(await counts()).toEqual({ eventos: 0, mensajes: 0 });
    });

    it('when the signature is malformed, then 401 and nothing is stored', async () => {
      const res = await router.postWebhook(payload(), { signature: 'sha1=abc' });
      expect(res.status).toBe(401);
      expect((await readJson(res)).error.code).toBe('SIGNATURE_MALFORMED');
      expect(await counts()).toEqual({ eventos: 0, mensajes: 0 });
    });

    it('when the body is signed with a secret the router does not know, then 403 and nothing is stored', async () => {
      const res = await router.postWebhook(payload(), { secret: 'an-attackers-secret' });
      expect(res.status).toBe(403);
      expect((await readJson(res)).error.code).toBe('SIGNATURE_INVALID');
      expect(await counts()).toEqual({ eventos: 0, mensajes: 0 });
    });

    it('when the signed body is altered by one byte, then 403', async () => {
      const raw = bodyOf(payload());
      const signature = signBody(raw, TEST_APP_SECRET);
      const tampered = Buffer.from(raw.toString('utf8').replace('hola', 'hole'));
      const res = await router.postWebhook(tampered, { signature });
      expect(res.status).toBe(403);
      expect(await counts()).toEqual({ eventos: 0, mensajes: 0 });
    });

    it('when the body is signed with the second of several app secrets, then it is accepted', async () => {
      const res = await router.postWebhook(payload(), { secret: TEST_APP_SECRET });
      expect(res.status).toBe(200);
      const res2 = await router.postWebhook(payload(), { secret: 'other-app-secret' });
      expect(res2.status).toBe(200);
      await router.idle();
      expect(await counts()).toEqual({ eventos: 2, mensajes: 2 });
    });

    it('when accents and emoji are signed as raw bytes (Meta escapes nothing), then 200 and the text is stored intact', async () => {
      const text = 'Señora Ñúñez: ¿cuánto cuesta? 🎓🇦🇷 — “gracias”';
      const raw = Buffer.from(JSON.stringify(inboundEnvelope(textMessage({ body: text }))), 'utf8');
      const res = await router.postWebhook(raw);
      expect(res.status).toBe(200);
      await router.idle();
      const stored = await withClient((c) => c.query(`SELECT mensaje FROM mensajes WHERE direccion = 'entrante'`));
      expect(stored.rows).toEqual([{ mensaje: text }]);
    });

    it('when the same text is sent \\u-escaped, then the signature over those other bytes is what counts', async () => {
      const escaped = JSON.stringify(inboundEnvelope(textMessage({ body: 'ñ' }))).replace('ñ', '\\u00f1');
      const signedOverUnescaped = signBody(escaped.replace('\\u00f1', 'ñ'), TEST_APP_SECRET);
      const res = await router.postWebhook(escaped, { signature: signedOverUnescaped });
      expect(res.status).toBe(403);
      const ok = await router.postWebhook(escaped);
      expect(ok.status).toBe(200);
    });
  });

  describe('POST bad bodies', () => {
    it.each([
      ['not JSON', 'this is not json', 'PAYLOAD_NOT_JSON'],
      ['truncated JSON', '{"object":"whatsapp_business_account","entry":[', 'PAYLOAD_NOT_JSON'],
      ['empty body', '', 'PAYLOAD_NOT_JSON'],
      ['a JSON array', '[1,2,3]', 'PAYLOAD_NOT_ENVELOPE'],
      ['another object type', JSON.stringify({ object: 'page', entry: [] }), 'PAYLOAD_NOT_ENVELOPE'],
      ['an envelope without entry', JSON.stringify({ object: 'whatsapp_business_account' }), 'PAYLOAD_NOT_ENVELOPE'],
      [
        'changes that are not a list',
        JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: 5 }] }),
        'PAYLOAD_NOT_ENVELOPE',
      ],
    ])('when the signed body is %s, then 400 and nothing is stored', async (_name, raw, code) => {
      const res = await router.postWebhook(raw);
      expect(res.status).toBe(400);
      expect((await readJson(res)).error.code).toBe(code);
      expect(await counts()).toEqual({ eventos: 0, mensajes: 0 });
    });

    it('when the body is over the limit, then 413 and nothing is stored', async () => {
      const big = inboundEnvelope(textMessage({ body: 'x'.repeat(300 * 1024) }));
      const res = await router.postWebhook(big);
      expect(res.status).toBe(413);
      expect((await readJson(res)).error.code).toBe('PAYLOAD_TOO_LARGE');
      expect(await counts()).toEqual({ eventos: 0, mensajes: 0 });
    });

    it('when a body just under the limit arrives, then it is accepted', async () => {
      const res = await router.postWebhook(inboundEnvelope(textMessage({ body: 'y'.repeat(200 * 1024) })));
      expect(res.status).toBe(200);
    });

    it('when an unknown route is called, then 404 with a code', async () => {
      const res = await fetch(`${router.url}/nope`);
      expect(res.status).toBe(404);
      expect((await readJson(res)).error.code).toBe('NOT_FOUND');
    });
  });
});
