import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { signBody } from '../../src/webhook/verify-signature.js';
import { bodyOf, inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { RawConnection, requestHead } from '../helpers/raw-http.js';
import { resetDatabase, truncateData, withClient } from '../helpers/reset-db.js';
import { startRouter, type RunningRouter, readJson } from '../helpers/start-router.js';
import { TEST_APP_SECRET, testConfig } from '../helpers/test-config.js';

const LIMIT = 2048;
/** Signed but not an envelope Meta sends (no entries): a 400 after the signature check. */
const EMPTY_BATCH = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');
/** A fresh one-message batch (fresh wamid, same length every time). */
const batch = () => bodyOf(inboundEnvelope(textMessage({ body: 'hola', timestamp: 1_790_000_000 })));

const storedMessages = () =>
  withClient(async (c) => {
    const r = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM mensajes WHERE direccion = 'entrante'`);
    return r.rows[0]!.n;
  });

describe('webhook fast path', () => {
  let router: RunningRouter;
  const logLines: string[] = [];
  const metric = async (sample: string) => {
    const text = await (await fetch(`${router.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
    return line ? Number(line.slice(sample.length + 1)) : 0;
  };
  const fastServed = () => metric('psi_router_webhook_fast_path_total');
  const outcome = (name: string) => metric(`psi_router_webhook_requests_total{outcome="${name}"}`);
  const signedHead = (path: string, body: Buffer, extra: Record<string, string | number> = {}) =>
    requestHead('POST', path, {
      'Content-Type': 'application/json',
      'Content-Length': body.length,
      'X-Hub-Signature-256': signBody(body, TEST_APP_SECRET),
      ...extra,
    });

  beforeAll(async () => {
    await resetDatabase();
    router = await startRouter(testConfig({ WEBHOOK_BODY_LIMIT: String(LIMIT) }), { logLines });
  });
  afterAll(async () => {
    await router.stop();
  });
  beforeEach(async () => {
    await truncateData();
  });

  it('when webhook POSTs arrive on either path (query ignored), then the fast path serves them and each outcome is counted once', async () => {
    const [fastBefore, acceptedBefore, rejectedBefore] = [
      await fastServed(),
      await outcome('accepted'),
      await outcome('rejected_signature'),
    ];
    const first = await router.postWebhook(inboundEnvelope(textMessage({ body: 'uno' })));
    const second = await router.postWebhook(inboundEnvelope(textMessage({ body: 'dos' })), {
      path: '/webhook/whatsapp?source=meta',
    });
    const refused = await router.postWebhook(inboundEnvelope(textMessage({ body: 'x' })), { secret: 'wrong' });
    expect([first.status, second.status, refused.status]).toEqual([200, 200, 403]);
    expect(await readJson(first)).toEqual({ received: 1, stored: 1, duplicates: 0 });
    expect(await fastServed()).toBe(fastBefore + 3);
    expect(await outcome('accepted')).toBe(acceptedBefore + 2);
    expect(await outcome('rejected_signature')).toBe(rejectedBefore + 1);
    await router.idle();
    expect(await storedMessages()).toBe(2);
  });

  it('when a webhook body is gzip-encoded, then Express inflates and stores it as before, counted once and not by the fast path', async () => {
    const json = bodyOf(inboundEnvelope(textMessage({ body: 'comprimido' })));
    const [fastBefore, acceptedBefore] = [await fastServed(), await outcome('accepted')];
    const res = await fetch(`${router.url}/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'x-hub-signature-256': signBody(json, TEST_APP_SECRET),
      },
      body: gzipSync(json),
    });
    expect(res.status).toBe(200);
    expect(await readJson(res)).toEqual({ received: 1, stored: 1, duplicates: 0 });
    expect(await fastServed()).toBe(fastBefore);
    expect(await outcome('accepted')).toBe(acceptedBefore + 1);
    await router.idle();
    expect(await storedMessages()).toBe(1);
  });

  // `/webhook/` (trailing slash) is the same route for Express but not for the fast path: the same
  // bytes sent to both must come back the same, Date aside.
  it.each([
    [
      'a signed batch',
      (p: string) => {
        const body = batch();
        return signedHead(p, body) + body.toString();
      },
    ],
    ['a signed envelope without entries', (p: string) => signedHead(p, EMPTY_BATCH) + EMPTY_BATCH.toString()],
    [
      'no signature',
      (p: string) =>
        requestHead('POST', p, { 'Content-Type': 'application/json', 'Content-Length': EMPTY_BATCH.length }) +
        EMPTY_BATCH.toString(),
    ],
    [
      'a wrong signature',
      (p: string) =>
        requestHead('POST', p, {
          'Content-Length': EMPTY_BATCH.length,
          'X-Hub-Signature-256': signBody(EMPTY_BATCH, 'not-the-secret'),
        }) + EMPTY_BATCH.toString(),
    ],
    ['a body that is not JSON', (p: string) => signedHead(p, Buffer.from('{nope')) + '{nope'],
    [
      'a declared length over the limit',
      (p: string) => signedHead(p, Buffer.alloc(LIMIT + 1, 'a')) + 'a'.repeat(LIMIT + 1),
    ],
    [
      'a chunked body past the limit',
      (p: string) =>
        requestHead('POST', p, { 'Transfer-Encoding': 'chunked', 'X-Hub-Signature-256': 'sha256=00' }) +
        `${(LIMIT + 1).toString(16)}\r\n${'b'.repeat(LIMIT + 1)}\r\n0\r\n\r\n`,
    ],
    [
      'an unsafe X-Request-Id and an empty body',
      (p: string) => requestHead('POST', p, { 'Content-Length': 0, 'X-Request-Id': 'bad id!' }),
    ],
  ])('when %s comes on the fast path and on Express, then both answers are byte-identical', async (_name, request) => {
    const answer = async (path: string) => {
      const conn = await RawConnection.open(router.url);
      try {
        const withId = request(path).replace('\r\n', '\r\nX-Request-Id: same-id-for-both\r\n');
        await conn.write(withId);
        return await conn.response();
      } finally {
        conn.destroy();
      }
    };
    const fastBefore = await fastServed();
    const fast = await answer('/webhook');
    expect(await fastServed()).toBe(fastBefore + 1);
    const viaExpress = await answer('/webhook/');
    expect(await fastServed()).toBe(fastBefore + 1);
    expect(fast.status).toBeGreaterThanOrEqual(200);
    if (fast.headers['x-request-id'] !== 'same-id-for-both') {
      // A refused id is replaced by a fresh one on both paths; only that value may differ.
      const unify = (lines: string[]) => lines.map((l) => l.replace(/^X-Request-Id: .*/i, 'X-Request-Id: *'));
      expect(unify(fast.head)).toEqual(unify(viaExpress.head));
      expect(fast.body.replace(fast.headers['x-request-id']!, '*')).toBe(
        viaExpress.body.replace(viaExpress.headers['x-request-id']!, '*'),
      );
    } else {
      expect(fast.head).toEqual(viaExpress.head);
      expect(fast.body).toBe(viaExpress.body);
    }
  });

  it('when a declared length is over the limit, then 413 comes before any body byte is sent, and once the body is read off the connection serves the next POST', async () => {
    const conn = await RawConnection.open(router.url);
    try {
      const oversize = Buffer.alloc(LIMIT + 1, 'a');
      await conn.write(signedHead('/webhook', oversize, { 'X-Request-Id': 'too-big-1' }));
      const refused = await conn.response();
      expect(refused.status).toBe(413);
      expect(refused.headers['x-request-id']).toBe('too-big-1');
      expect(JSON.parse(refused.body)).toEqual({
        error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body exceeds the webhook body limit' },
        requestId: 'too-big-1',
      });
      // The refused body is discarded, not taken for the next request.
      await conn.write(oversize);
      const body = batch();
      await conn.write(signedHead('/webhook', body) + body.toString());
      const next = await conn.response();
      expect(next.status).toBe(200);
      expect(JSON.parse(next.body)).toEqual({ received: 1, stored: 1, duplicates: 0 });
    } finally {
      conn.destroy();
    }
  }, 10_000);

  it('when a huge length is declared, then 413 comes at once and the router stays healthy after the client hangs up', async () => {
    const conn = await RawConnection.open(router.url);
    await conn.write(signedHead('/webhook/whatsapp', Buffer.alloc(0), { 'Content-Length': 500 * 1024 * 1024 }));
    expect((await conn.response()).status).toBe(413);
    conn.destroy();
    const res = await router.postWebhook(inboundEnvelope(textMessage({ body: 'sigue' })));
    expect(res.status).toBe(200);
  }, 10_000);

  it('when a chunked body crosses the limit, then 413 comes before the body ends', async () => {
    const conn = await RawConnection.open(router.url);
    try {
      await conn.write(requestHead('POST', '/webhook', { 'Transfer-Encoding': 'chunked', 'X-Hub-Signature-256': 'x' }));
      await conn.write(`${(LIMIT - 100).toString(16)}\r\n${'c'.repeat(LIMIT - 100)}\r\n`);
      await conn.write(`c8\r\n${'c'.repeat(200)}\r\n`);
      expect((await conn.response()).status).toBe(413);
      const body = batch();
      await conn.write('0\r\n\r\n' + signedHead('/webhook', body) + body.toString());
      expect((await conn.response()).status).toBe(200);
    } finally {
      conn.destroy();
    }
  }, 10_000);

  it('when an upload is aborted halfway, then nothing throws, the request is logged as aborted and the next POST gets 200', async () => {
    const conn = await RawConnection.open(router.url);
    const body = bodyOf(inboundEnvelope(textMessage({ body: 'cortado' })));
    await conn.write(signedHead('/webhook', body, { 'X-Request-Id': 'aborted-upload-1' }));
    await conn.write(body.subarray(0, 40));
    conn.destroy();
    await vi.waitFor(() =>
      expect(logLines.some((l) => l.includes('aborted-upload-1') && l.includes('PAYLOAD_NOT_JSON'))).toBe(true),
    );
    const res = await router.postWebhook(inboundEnvelope(textMessage({ body: 'siguiente' })));
    expect(res.status).toBe(200);
    expect(await readJson(res)).toEqual({ received: 1, stored: 1, duplicates: 0 });
  });
});
