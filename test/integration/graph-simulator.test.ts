import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { metaFailures, startGraphSimulator, type GraphSimulator } from '../../src/simulator/graph-simulator.js';
import { verifySignature } from '../../src/webhook/verify-signature.js';

const TOKEN = 'test-token';
const LINE = '106540352242922';
const CUSTOMER = '5491155550001';
const SECRET = 'simulator-app-secret';

interface GraphAnswer {
  messaging_product?: string;
  contacts?: { input: string; wa_id: string }[];
  messages?: { id: string }[];
  error?: {
    message: string;
    type: string;
    code: number;
    error_subcode?: number;
    error_data?: { messaging_product: string; details: string };
    fbtrace_id: string;
  };
}

interface SendOptions {
  /** null = no Authorization header. */
  token?: string | null;
  version?: string;
  raw?: string;
  signal?: AbortSignal;
}

async function send(sim: GraphSimulator, body: unknown, o: SendOptions = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (o.token !== null) headers['authorization'] = `Bearer ${o.token ?? TOKEN}`;
  const res = await fetch(sim.messagesUrl(LINE, o.version), {
    method: 'POST',
    headers,
    body: o.raw ?? JSON.stringify(body),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const text = await res.text();
  let json: GraphAnswer = {};
  try {
    json = JSON.parse(text) as GraphAnswer;
  } catch {
    // raw (non-JSON) bodies of scripted HTTP errors
  }
  return { status: res.status, json, text };
}

async function control(sim: GraphSimulator, method: 'GET' | 'POST', path: string, body?: unknown) {
  const res = await fetch(`${sim.url}/__sim/${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as unknown };
}

// ---- message bodies, valid by default; cases override one thing each ----
const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to: CUSTOMER };
const textBody = (body?: string) => ({ ...base, type: 'text', text: { preview_url: false, body } });
const interactiveBody = (interactive: object) => ({ ...base, type: 'interactive', interactive });
const x = (n: number) => 'x'.repeat(n);
const rows = (n: number, from = 1) =>
  Array.from({ length: n }, (_, k) => ({ id: `row-${from + k}`, title: `Opción ${from + k}` }));
const listAction = (o: object = {}) => ({
  button: 'Ver opciones',
  sections: [{ title: 'Áreas', rows: rows(3) }],
  ...o,
});
const list = (o: object = {}) => ({
  type: 'list',
  header: { type: 'text', text: 'Menú principal' },
  body: { text: 'Elegí una opción' },
  footer: { text: 'Psi' },
  action: listAction(),
  ...o,
});
const reply = (id: string, title: string) => ({ type: 'reply', reply: { id, title } });
const buttons = (btns: unknown[] = [reply('si', 'Sí'), reply('no', 'No')], o: object = {}) => ({
  type: 'button',
  body: { text: '¿Confirmás?' },
  action: { buttons: btns },
  ...o,
});

function expectMetaError(answer: { status: number; json: GraphAnswer }, status: number, code: number): void {
  expect(answer.status).toBe(status);
  expect(answer.json.error).toMatchObject({
    type: 'OAuthException',
    code,
    message: expect.stringContaining(`(#${code})`),
  });
  expect(answer.json.error?.error_data?.messaging_product).toBe('whatsapp');
  expect(answer.json.error?.error_data?.details).toEqual(expect.any(String));
  expect(answer.json.error?.fbtrace_id).toMatch(/^\S{10,}$/);
}

describe('graph simulator: send endpoint', () => {
  let sim: GraphSimulator;

  beforeAll(async () => {
    sim = await startGraphSimulator({ accessToken: TOKEN });
  });
  afterAll(async () => {
    await sim.close();
  });
  beforeEach(() => {
    sim.reset();
  });

  describe('auth', () => {
    it('when the Authorization header is missing or wrong, then it answers 401 with Meta code 190 and records nothing', async () => {
      for (const token of [null, 'not-the-token']) {
        const answer = await send(sim, textBody('hola'), { token });
        expect(answer.status).toBe(401);
        expect(answer.json.error).toEqual({
          message: 'Invalid OAuth access token - Cannot parse access token',
          type: 'OAuthException',
          code: 190,
          fbtrace_id: expect.any(String),
        });
      }
      expect(sim.requests.auth_error).toBe(2);
      expect(sim.sent).toHaveLength(0);
      expect(sim.rejected).toEqual([
        { status: 401, code: 190, details: expect.any(String) },
        { status: 401, code: 190, details: expect.any(String) },
      ]);
    });

    it('when a failure is scripted, then an unauthorised request does not consume it', async () => {
      sim.script(metaFailures.rateLimitHit());
      expect((await send(sim, textBody('hola'), { token: 'wrong' })).status).toBe(401);
      expect((await send(sim, textBody('hola'))).status).toBe(429);
      expect((await send(sim, textBody('hola'))).status).toBe(200);
    });
  });

  describe('accepted messages', () => {
    it('when a valid text is sent, then it answers like Meta and records the send with its wamid', async () => {
      const answer = await send(sim, textBody('hola'));
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({
        messaging_product: 'whatsapp',
        contacts: [{ input: CUSTOMER, wa_id: CUSTOMER }],
        messages: [{ id: expect.stringMatching(/^wamid\.[A-Za-z0-9+/=]+$/) }],
      });
      expect(sim.sent).toEqual([
        {
          wamid: answer.json.messages?.[0]?.id,
          phoneNumberId: LINE,
          to: CUSTOMER,
          type: 'text',
          body: textBody('hola'),
          at: expect.any(Number),
        },
      ]);
      expect(sim.requests.ok).toBe(1);
    });

    it('when a list sits exactly at every Meta limit, then it is accepted', async () => {
      const fullRow = (i: number) => ({ id: `${i}${x(199)}`, title: `${i}${x(23)}`, description: x(72) });
      const interactive = list({
        header: { type: 'text', text: x(60) },
        body: { text: x(1024) },
        footer: { text: x(60) },
        action: listAction({
          button: x(20),
          sections: [
            { title: `A${x(23)}`, rows: [0, 1, 2, 3, 4].map(fullRow) },
            { title: `B${x(23)}`, rows: [5, 6, 7, 8, 9].map(fullRow) },
          ],
        }),
      });
      const answer = await send(sim, interactiveBody(interactive));
      expect(answer.status).toBe(200);
      expect(sim.sent[0]?.type).toBe('interactive');
    });

    it('when three reply buttons sit at the title and id limits, then they are accepted', async () => {
      const answer = await send(
        sim,
        interactiveBody(buttons([reply(`a${x(255)}`, x(20)), reply(`b${x(255)}`, x(20)), reply('c', 'C')])),
      );
      expect(answer.status).toBe(200);
    });

    it('when a text is exactly 4096 characters, then it is accepted', async () => {
      expect((await send(sim, textBody(x(4096)))).status).toBe(200);
    });

    it.each([
      ['template', { type: 'template', template: { name: 'bienvenida', language: { code: 'es_AR' } } }],
      ['image', { type: 'image', image: { link: 'https://example.com/a.jpg', caption: 'foto' } }],
      ['document', { type: 'document', document: { id: '1234567890123456' } }],
      ['location', { type: 'location', location: { latitude: -34.6, longitude: -58.4 } }],
      ['reaction', { type: 'reaction', reaction: { message_id: 'wamid.X', emoji: '👍' } }],
      ['contacts', { type: 'contacts', contacts: [{ name: { formatted_name: 'Ana' } }] }],
    ])('when a valid %s is sent, then it is accepted', async (_name, content) => {
      expect((await send(sim, { ...base, ...content })).status).toBe(200);
    });

    it('when several messages are sent, then each gets its own wamid', async () => {
      const answers = await Promise.all([1, 2, 3].map((i) => send(sim, textBody(`m${i}`))));
      const ids = answers.map((a) => a.json.messages?.[0]?.id);
      expect(new Set(ids).size).toBe(3);
      expect(sim.sent.map((s) => s.wamid).sort()).toEqual([...ids].sort());
    });

    it('when no version is configured, then any vN.N path is accepted', async () => {
      expect((await send(sim, textBody('a'), { version: 'v19.0' })).status).toBe(200);
      expect((await send(sim, textBody('b'), { version: 'v23.0' })).status).toBe(200);
    });
  });

  describe('list limits', () => {
    const two = (a: object, b: object) => listAction({ sections: [a, b] });
    it.each([
      ['header text > 60', list({ header: { type: 'text', text: x(61) } }), 131009],
      ['body text missing', list({ body: {} }), 100],
      ['body text > 1024', list({ body: { text: x(1025) } }), 131009],
      ['footer > 60', list({ footer: { text: x(61) } }), 131009],
      ['button missing', list({ action: listAction({ button: undefined }) }), 100],
      ['button > 20', list({ action: listAction({ button: x(21) }) }), 131009],
      ['sections missing', list({ action: listAction({ sections: undefined }) }), 100],
      ['sections empty', list({ action: listAction({ sections: [] }) }), 131009],
      [
        'more than 10 sections',
        list({ action: listAction({ sections: rows(11).map((r, i) => ({ title: `S${i}`, rows: [r] })) }) }),
        131009,
      ],
      [
        'more than 10 rows in total',
        list({ action: two({ title: 'A', rows: rows(6) }, { title: 'B', rows: rows(5, 7) }) }),
        131009,
      ],
      ['no rows', list({ action: listAction({ sections: [{ title: 'A', rows: [] }] }) }), 131009],
      ['row title > 24', list({ action: listAction({ sections: [{ rows: [{ id: 'a', title: x(25) }] }] }) }), 131009],
      ['row title missing', list({ action: listAction({ sections: [{ rows: [{ id: 'a' }] }] }) }), 100],
      [
        'row description > 72',
        list({ action: listAction({ sections: [{ rows: [{ id: 'a', title: 'A', description: x(73) }] }] }) }),
        131009,
      ],
      ['row id missing', list({ action: listAction({ sections: [{ rows: [{ title: 'A' }] }] }) }), 100],
      ['row id > 200', list({ action: listAction({ sections: [{ rows: [{ id: x(201), title: 'A' }] }] }) }), 131009],
      [
        'duplicate row ids across sections',
        list({ action: two({ title: 'A', rows: rows(2) }, { title: 'B', rows: rows(2) }) }),
        131009,
      ],
      ['section title > 24', list({ action: listAction({ sections: [{ title: x(25), rows: rows(1) }] }) }), 131009],
      [
        'a section without title among several',
        list({ action: two({ title: 'A', rows: rows(1) }, { rows: rows(1, 2) }) }),
        100,
      ],
    ])('when a list has %s, then it is rejected with HTTP 400', async (_case, interactive, code) => {
      const answer = await send(sim, interactiveBody(interactive));
      expectMetaError(answer, 400, code);
      expect(sim.sent).toHaveLength(0);
      expect(sim.requests.invalid).toBe(1);
      expect(sim.rejected).toEqual([{ status: 400, code, details: answer.json.error?.error_data?.details }]);
    });
  });

  describe('reply button limits', () => {
    it.each([
      ['no buttons', buttons([]), 131009],
      ['four buttons', buttons([reply('a', 'A'), reply('b', 'B'), reply('c', 'C'), reply('d', 'D')]), 131009],
      ['a title > 20', buttons([reply('a', x(21))]), 131009],
      ['an id > 256', buttons([reply(x(257), 'A')]), 131009],
      ['duplicate ids', buttons([reply('a', 'A'), reply('a', 'B')]), 131009],
      ['a button that is not of type reply', buttons([{ type: 'url', reply: { id: 'a', title: 'A' } }]), 100],
      ['a button without title', buttons([{ type: 'reply', reply: { id: 'a' } }]), 100],
      ['no buttons array', buttons(undefined, { action: {} }), 100],
      ['no body text', buttons(undefined, { body: {} }), 100],
    ])('when buttons have %s, then they are rejected with HTTP 400', async (_case, interactive, code) => {
      expectMetaError(await send(sim, interactiveBody(interactive)), 400, code);
      expect(sim.sent).toHaveLength(0);
    });
  });

  describe('other validation', () => {
    it.each([
      ['a text without body', textBody(undefined), 100],
      ['an empty text body', textBody(''), 100],
      ['a text body > 4096', textBody(x(4097)), 131009],
      ['a template without name', { ...base, type: 'template', template: { language: { code: 'es' } } }, 100],
      ['a template without language.code', { ...base, type: 'template', template: { name: 't', language: {} } }, 100],
      ['no messaging_product', { to: CUSTOMER, type: 'text', text: { body: 'a' } }, 100],
      ['no recipient', { messaging_product: 'whatsapp', type: 'text', text: { body: 'a' } }, 100],
      ['an unknown type', { ...base, type: 'carousel', carousel: {} }, 100],
      ['an image without id or link', { ...base, type: 'image', image: {} }, 100],
    ])('when the body has %s, then it is rejected with HTTP 400', async (_case, body, code) => {
      expectMetaError(await send(sim, body), 400, code);
      expect(sim.sent).toHaveLength(0);
    });

    it('when the body is not JSON, then it is rejected with code 100', async () => {
      expectMetaError(await send(sim, undefined, { raw: '{"messaging_product":' }), 400, 100);
    });

    it('when the path is unknown, then it answers 404 with code 100 "Unknown path components"', async () => {
      const res = await fetch(`${sim.url}/v25.0/${LINE}/nope`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(res.status).toBe(404);
      const body = (await res.json()) as GraphAnswer;
      expect(body.error).toMatchObject({
        code: 100,
        type: 'OAuthException',
        message: expect.stringContaining('Unknown path components'),
      });
    });
  });

  describe('scripted failures', () => {
    it("when 130429 is scripted, then one send gets HTTP 429 with Meta's body and the next succeeds", async () => {
      sim.script(metaFailures.rateLimitHit());
      const answer = await send(sim, textBody('hola'));
      expectMetaError(answer, 429, 130429);
      expect(answer.json.error?.message).toBe('(#130429) Rate limit hit');
      expect((await send(sim, textBody('hola'))).status).toBe(200);
      expect(sim.requests).toEqual({ ok: 1, auth_error: 0, invalid: 0, scripted_error: 1, down: 0 });
      expect(sim.rejected).toEqual([{ status: 429, code: 130429, details: expect.any(String) }]);
    });

    it('when 131047 is scripted, then the send gets HTTP 400 "Re-engagement message" with details', async () => {
      sim.script(metaFailures.reEngagement());
      const answer = await send(sim, textBody('hola'));
      expectMetaError(answer, 400, 131047);
      expect(answer.json.error?.message).toBe('(#131047) Re-engagement message');
      expect(answer.json.error?.error_data?.details).toContain('24 hours');
    });

    it.each([
      ['pairRateLimitHit', 400, 131056],
      ['undeliverable', 400, 131026],
      ['somethingWentWrong', 500, 131000],
      ['serviceUnavailable', 503, 131016],
    ] as const)(
      'when metaFailures.%s() is scripted, then the send gets HTTP %i with code %i',
      async (helper, status, code) => {
        sim.script(metaFailures[helper]());
        expectMetaError(await send(sim, textBody('hola')), status, code);
      },
    );

    it('when a custom meta_error with a subcode is scripted, then title, details and subcode are Meta-shaped', async () => {
      sim.script({
        kind: 'meta_error',
        httpStatus: 400,
        code: 131009,
        title: 'Parameter value is not valid',
        message: 'custom details',
        subcode: 2494010,
      });
      const answer = await send(sim, textBody('hola'));
      expect(answer.json.error).toMatchObject({
        message: '(#131009) Parameter value is not valid',
        code: 131009,
        error_subcode: 2494010,
        error_data: { messaging_product: 'whatsapp', details: 'custom details' },
      });
    });

    it('when a failure is scripted, then it is answered before the body is validated', async () => {
      sim.script(metaFailures.rateLimitHit());
      expect((await send(sim, textBody(''))).status).toBe(429);
      expect(sim.requests.invalid).toBe(0);
    });

    it('when several failures are scripted, then they are consumed first in, first out', async () => {
      sim.script({ kind: 'http', status: 502, body: 'Bad Gateway' }, metaFailures.rateLimitHit());
      const first = await send(sim, textBody('1'));
      expect(first.status).toBe(502);
      expect(first.text).toBe('Bad Gateway');
      expect((await send(sim, textBody('2'))).status).toBe(429);
      expect((await send(sim, textBody('3'))).status).toBe(200);
    });

    it.each([500, 502, 503] as const)(
      'when a raw HTTP %i is scripted, then the send gets that status and a non-JSON body',
      async (status) => {
        sim.script({ kind: 'http', status });
        const answer = await send(sim, textBody('hola'));
        expect(answer.status).toBe(status);
        expect(answer.json).toEqual({});
        expect(sim.rejected).toEqual([{ status, code: null, details: expect.any(String) }]);
      },
    );

    it('when a timeout is scripted, then the request hangs until the client gives up, and the next send works', async () => {
      sim.script({ kind: 'timeout' });
      const started = Date.now();
      const error = await send(sim, textBody('hola'), { signal: AbortSignal.timeout(300) }).catch((e: unknown) => e);
      expect((error as Error).name).toBe('TimeoutError');
      expect(Date.now() - started).toBeGreaterThanOrEqual(280);
      expect(sim.sent).toHaveLength(0);
      expect((await send(sim, textBody('hola'))).status).toBe(200);
    });

    it('when a reset is scripted, then the connection is dropped without an answer, and the next send works', async () => {
      sim.script({ kind: 'reset' });
      await expect(send(sim, textBody('hola'))).rejects.toThrow(TypeError);
      expect(sim.requests.scripted_error).toBe(1);
      expect((await send(sim, textBody('hola'))).status).toBe(200);
    });
  });

  describe('down switch', () => {
    it('when the simulator is down, then every send gets HTTP 503 until it is back up', async () => {
      sim.setDown(true);
      expectMetaError(await send(sim, textBody('1')), 503, 131016);
      expectMetaError(await send(sim, textBody('2')), 503, 131016);
      expect(sim.requests.down).toBe(2);
      sim.setDown(false);
      expect((await send(sim, textBody('3'))).status).toBe(200);
    });

    it('when the simulator is down with resets, then every send loses its connection until it is back up', async () => {
      sim.setDown(true, 'reset');
      await expect(send(sim, textBody('1'))).rejects.toThrow(TypeError);
      await expect(send(sim, textBody('2'))).rejects.toThrow(TypeError);
      expect(sim.requests.down).toBe(2);
      sim.setDown(false);
      expect((await send(sim, textBody('3'))).status).toBe(200);
    });
  });

  describe('waitForSent', () => {
    it('when n sends arrive, then it resolves with them as soon as the n-th is recorded', async () => {
      const waiting = sim.waitForSent(3, 2_000);
      const answers = await Promise.all([1, 2, 3].map((i) => send(sim, textBody(`m${i}`))));
      const sent = await waiting;
      expect(sent.map((s) => s.wamid).sort()).toEqual(answers.map((a) => a.json.messages?.[0]?.id).sort());
    });

    it('when fewer than n sends arrive in time, then it rejects saying how many came', async () => {
      await send(sim, textBody('solo'));
      await expect(sim.waitForSent(2, 100)).rejects.toThrow(/waiting for 2 sends; got 1/);
    });
  });

  describe('control API', () => {
    it("when failures are scripted over HTTP, then the next sends get them (Meta's status filled in)", async () => {
      const scripted = await control(sim, 'POST', 'script', [
        { kind: 'meta_error', code: 130429 },
        { kind: 'http', status: 502 },
      ]);
      expect(scripted).toEqual({ status: 200, json: { ok: true, pending: 2 } });
      expectMetaError(await send(sim, textBody('1')), 429, 130429);
      expect((await send(sim, textBody('2'))).status).toBe(502);
    });

    it('when the down switch is flipped over HTTP, then sends fail and recover', async () => {
      await control(sim, 'POST', 'down', { down: true });
      expect((await send(sim, textBody('1'))).status).toBe(503);
      await control(sim, 'POST', 'down', { down: true, how: 'reset' });
      await expect(send(sim, textBody('2'))).rejects.toThrow(TypeError);
      await control(sim, 'POST', 'down', { down: false });
      expect((await send(sim, textBody('3'))).status).toBe(200);
    });

    it('when sent, stats and reset are used over HTTP, then they report and clear the state', async () => {
      const answer = await send(sim, textBody('hola'));
      await send(sim, textBody(''));
      const sent = await control(sim, 'GET', 'sent');
      expect(sent.json).toEqual([
        expect.objectContaining({ wamid: answer.json.messages?.[0]?.id, to: CUSTOMER, type: 'text' }),
      ]);
      const stats = await control(sim, 'GET', 'stats');
      expect(stats.json).toMatchObject({
        requests: { ok: 1, invalid: 1 },
        sent: 1,
        rejected: 1,
        scriptPending: 0,
        down: null,
      });
      expect((await control(sim, 'POST', 'reset')).status).toBe(200);
      expect((await control(sim, 'GET', 'sent')).json).toEqual([]);
      expect((await control(sim, 'GET', 'stats')).json).toMatchObject({ requests: { ok: 0, invalid: 0 }, sent: 0 });
    });

    it('when a control request is malformed, then it answers 400 and changes nothing', async () => {
      expect((await control(sim, 'POST', 'script', [{ kind: 'explode' }])).status).toBe(400);
      expect((await control(sim, 'POST', 'down', { down: 'yes' })).status).toBe(400);
      expect(sim.stats()).toMatchObject({ scriptPending: 0, down: null });
    });
  });
});

describe('graph simulator: configuration and lifecycle', () => {
  it('when a version is configured, then other versions are unknown paths', async () => {
    const sim = await startGraphSimulator({ accessToken: TOKEN, version: 'v25.0' });
    try {
      expect((await send(sim, textBody('a'), { version: 'v25.0' })).status).toBe(200);
      expect((await send(sim, textBody('b'), { version: 'v21.0' })).status).toBe(404);
    } finally {
      await sim.close();
    }
  });

  it('when another file registers a route, then it is served with the shared auth and version checks', async () => {
    const sim = await startGraphSimulator({
      accessToken: TOKEN,
      routes: [
        (routes, kit) =>
          routes.add({
            method: 'GET',
            path: '/:version/:mediaId',
            where: { version: kit.version },
            handler: (ctx) => {
              if (!kit.authorize(ctx)) return;
              ctx.res
                .writeHead(200, { 'content-type': 'application/json' })
                .end(JSON.stringify({ id: ctx.params['mediaId'] }));
            },
          }),
      ],
    });
    try {
      const ok = await fetch(`${sim.url}/v25.0/1234567890`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(await ok.json()).toEqual({ id: '1234567890' });
      expect((await fetch(`${sim.url}/v25.0/1234567890`)).status).toBe(401);
    } finally {
      await sim.close();
    }
  });

  it('when the simulator closes while a scripted timeout hangs, then the hanging socket is destroyed and close() is prompt', async () => {
    const sim = await startGraphSimulator({ accessToken: TOKEN });
    sim.script({ kind: 'timeout' });
    const hanging = send(sim, textBody('hola')).catch((e: unknown) => e);
    await vi.waitFor(() => expect(sim.requests.scripted_error).toBe(1));
    const started = Date.now();
    await sim.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await hanging).toBeInstanceOf(TypeError);
  });

  it('when latency is configured, then each send takes at least that long', async () => {
    const sim = await startGraphSimulator({ accessToken: TOKEN, latencyMs: 120 });
    try {
      const started = Date.now();
      expect((await send(sim, textBody('hola'))).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    } finally {
      await sim.close();
    }
  });
});

// ---- a local webhook receiver standing in for the router ----
interface Post {
  raw: Buffer;
  signature: string | undefined;
  body: WebhookBody;
  receivedAt: number;
  answeredAt: number;
}
interface StatusItem {
  id: string;
  status: string;
  timestamp: string;
  recipient_id: string;
  conversation?: unknown;
  pricing?: unknown;
  errors?: unknown[];
}
interface WebhookBody {
  object: string;
  entry: { id: string; changes: { field: string; value: { statuses: StatusItem[] } }[] }[];
}
interface Receiver {
  url: string;
  posts: Post[];
  waitFor(n: number, timeoutMs?: number): Promise<Post[]>;
  close(): Promise<void>;
}

const statusOf = (p: Post): StatusItem => {
  const item = p.body.entry[0]?.changes[0]?.value.statuses[0];
  if (!item) throw new Error('no status item');
  return item;
};

/** Answers `status` after `delayFor(statusName)` ms; notifies waiters on every answered post. */
async function startReceiver(o: { status?: number; delayFor?: (status: string) => number } = {}): Promise<Receiver> {
  const posts: Post[] = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = JSON.parse(raw.toString('utf8')) as WebhookBody;
      const receivedAt = performance.now();
      const header = req.headers['x-hub-signature-256'];
      const delay = o.delayFor?.(body.entry[0]?.changes[0]?.value.statuses[0]?.status ?? '') ?? 0;
      setTimeout(() => {
        res.writeHead(o.status ?? 200).end('EVENT_RECEIVED');
        posts.push({
          raw,
          signature: Array.isArray(header) ? header[0] : header,
          body,
          receivedAt,
          answeredAt: performance.now(),
        });
        for (const w of [...waiters]) w();
      }, delay);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    posts,
    waitFor: (n, timeoutMs = 3_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (posts.length < n) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(posts.slice());
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`receiver got ${posts.length} of ${n} posts`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('graph simulator: status webhooks', () => {
  it('when messages are accepted, then sent, delivered and read arrive signed, Meta-shaped and in order per message', async () => {
    // Slow answers to "sent" prove "delivered" waits for them.
    const receiver = await startReceiver({ delayFor: (s) => (s === 'sent' ? 60 : 0) });
    const sim = await startGraphSimulator({
      accessToken: TOKEN,
      statusWebhook: { url: receiver.url, appSecret: SECRET },
    });
    try {
      const answers = await Promise.all([send(sim, textBody('uno')), send(sim, textBody('dos'))]);
      const posts = await receiver.waitFor(6);
      for (const post of posts) expect(() => verifySignature(post.raw, post.signature, [SECRET])).not.toThrow();

      for (const answer of answers) {
        const wamid = answer.json.messages?.[0]?.id;
        const mine = posts.filter((p) => statusOf(p).id === wamid);
        expect(mine.map((p) => statusOf(p).status)).toEqual(['sent', 'delivered', 'read']);
        expect(mine[1]?.receivedAt).toBeGreaterThanOrEqual(mine[0]?.answeredAt ?? Infinity);
        for (const post of mine) {
          expect(post.body).toEqual({
            object: 'whatsapp_business_account',
            entry: [
              {
                id: expect.stringMatching(/^\d+$/),
                changes: [
                  {
                    field: 'messages',
                    value: {
                      messaging_product: 'whatsapp',
                      metadata: { display_phone_number: expect.stringMatching(/^\d+$/), phone_number_id: LINE },
                      statuses: [
                        expect.objectContaining({
                          id: wamid,
                          timestamp: expect.stringMatching(/^\d{10}$/),
                          recipient_id: CUSTOMER,
                        }),
                      ],
                    },
                  },
                ],
              },
            ],
          });
        }
        expect(statusOf(mine[0] as Post)).toMatchObject({
          conversation: { origin: { type: 'service' } },
          pricing: { billable: true, category: 'service' },
        });
        expect(statusOf(mine[2] as Post).pricing).toBeUndefined();
      }
      await sim.statusWebhooksIdle();
      expect(sim.stats().webhooks).toEqual({ ok: 6, failed: 0, inFlight: 0 });
    } finally {
      await sim.close();
      await receiver.close();
    }
  });

  it('when only some statuses are configured, then only those are posted', async () => {
    const receiver = await startReceiver();
    const sim = await startGraphSimulator({
      accessToken: TOKEN,
      statusWebhook: { url: receiver.url, appSecret: SECRET, statuses: ['delivered'] },
    });
    try {
      await send(sim, textBody('hola'));
      await sim.statusWebhooksIdle();
      expect(receiver.posts.map((p) => statusOf(p).status)).toEqual(['delivered']);
    } finally {
      await sim.close();
      await receiver.close();
    }
  });

  it('when the receiver fails or is unreachable, then the sends still succeed and the failures are recorded', async () => {
    const failing = await startReceiver({ status: 500 });
    const down = await startReceiver();
    const downUrl = down.url;
    await down.close();
    const simA = await startGraphSimulator({
      accessToken: TOKEN,
      statusWebhook: { url: failing.url, appSecret: SECRET },
    });
    const simB = await startGraphSimulator({
      accessToken: TOKEN,
      statusWebhook: { url: downUrl, appSecret: SECRET, statuses: ['sent'] },
    });
    try {
      expect((await send(simA, textBody('hola'))).status).toBe(200);
      expect((await send(simB, textBody('hola'))).status).toBe(200);
      await Promise.all([simA.statusWebhooksIdle(), simB.statusWebhooksIdle()]);
      expect(simA.webhookFailures.map((f) => [f.status, f.httpStatus, f.ok])).toEqual([
        ['sent', 500, false],
        ['delivered', 500, false],
        ['read', 500, false],
      ]);
      expect(simB.webhookFailures).toEqual([
        expect.objectContaining({ status: 'sent', ok: false, httpStatus: null, error: expect.any(String) }),
      ]);
      expect(simB.stats().webhooks).toMatchObject({ ok: 0, failed: 1 });
    } finally {
      await simA.close();
      await simB.close();
      await failing.close();
    }
  });

  it("when postStatus posts a failed status with errors, then it arrives signed with Meta's error objects", async () => {
    const receiver = await startReceiver();
    const sim = await startGraphSimulator({
      accessToken: TOKEN,
      statusWebhook: { url: receiver.url, appSecret: SECRET, statuses: [] },
    });
    try {
      const wamid = (await send(sim, textBody('hola'))).json.messages?.[0]?.id ?? '';
      const delivery = await sim.postStatus(wamid, 'failed', { errors: [{ code: 131026 }] });
      expect(delivery).toMatchObject({ wamid, status: 'failed', ok: true, httpStatus: 200 });
      const [post] = receiver.posts;
      expect(() => verifySignature(post?.raw ?? Buffer.alloc(0), post?.signature, [SECRET])).not.toThrow();
      expect(statusOf(post as Post)).toEqual({
        id: wamid,
        status: 'failed',
        timestamp: expect.any(String),
        recipient_id: CUSTOMER,
        errors: [
          {
            code: 131026,
            title: 'Message undeliverable',
            message: 'Message undeliverable',
            error_data: { details: expect.any(String) },
          },
        ],
      });
    } finally {
      await sim.close();
      await receiver.close();
    }
  });

  it('when a status is posted over the control API, then it reaches the receiver', async () => {
    const receiver = await startReceiver();
    const sim = await startGraphSimulator({
      accessToken: TOKEN,
      statusWebhook: { url: receiver.url, appSecret: SECRET, statuses: [] },
    });
    try {
      const posted = await control(sim, 'POST', 'status', { wamid: 'wamid.ABC', status: 'read', to: CUSTOMER });
      expect(posted.json).toMatchObject({ ok: true, status: 'read' });
      expect(statusOf(receiver.posts[0] as Post)).toMatchObject({
        id: 'wamid.ABC',
        status: 'read',
        recipient_id: CUSTOMER,
      });
    } finally {
      await sim.close();
      await receiver.close();
    }
  });

  it('when no status webhook is configured, then postStatus rejects', async () => {
    const sim = await startGraphSimulator({ accessToken: TOKEN });
    try {
      await expect(sim.postStatus('wamid.X', 'read', { to: CUSTOMER })).rejects.toThrow(/statusWebhook/);
    } finally {
      await sim.close();
    }
  });
});
