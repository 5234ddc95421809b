import { randomBytes } from 'node:crypto';
import { signBody } from '../src/webhook/verify-signature.js';
import { inboundEnvelope, textMessage } from '../test/fixtures/whatsapp/builders.js';
import { freshBenchDatabase, withBenchClient } from './lib/bench-db.js';
import { buildRequest, closedLoop } from './lib/http-load.js';
import { startNode } from './lib/processes.js';
import { table } from './lib/stats.js';
import { freePort } from '../test/helpers/start-router.js';

/**
 * The bad-input run: thousands of generated hostile bodies against a running router. Prints how
 * many got which status per family; nothing may be stored from them, nothing may crash, and no
 * 5xx may appear (503 only when a dependency is down, which it is not here). Exit 1 otherwise.
 */
// Production refuses secrets under 32 characters (src/secret-rules.ts).
const SECRET = 'bad-input-app-secret-5f0c1e9a7b3d2c4e';
const N = Number(process.env.BAD_INPUT_PER_FAMILY ?? 500);
const rnd = (n: number) => Math.floor(Math.random() * n);

const signed = (body: Buffer) => ({
  'content-type': 'application/json',
  'x-hub-signature-256': signBody(body, SECRET),
});
const validBody = () => Buffer.from(JSON.stringify(inboundEnvelope(textMessage({ body: 'hola' }))));

function deepNest(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** A valid envelope whose inner values have the wrong types, or nest absurdly deep. */
function typeConfused(): unknown {
  const junk = [
    null,
    42,
    'x',
    true,
    [],
    {},
    [1, [2, [3]]],
    { a: { b: { c: 'd' } } },
    -1e308,
    '\u0000',
    '🎓'.repeat(50),
  ];
  const pick = () => junk[rnd(junk.length)];
  const msg: Record<string, unknown> = {
    from: pick(),
    id: pick(),
    timestamp: pick(),
    type: pick(),
    text: pick(),
    context: pick(),
    referral: pick(),
    interactive: pick(),
  };
  const value: Record<string, unknown> = {
    messaging_product: pick(),
    metadata: rnd(2) ? pick() : { phone_number_id: pick(), display_phone_number: pick() },
    contacts: pick(),
    messages: rnd(2) ? [msg, pick()] : pick(),
    statuses: rnd(2) ? [{ id: pick(), status: pick(), timestamp: pick() }] : pick(),
    errors: pick(),
  };
  // Spliced in as text below: JSON.stringify itself cannot build thousands of levels.
  if (rnd(4) === 0) value['deep'] = '__DEEP__';
  return {
    object: 'whatsapp_business_account',
    entry: [{ id: pick() ?? 'x', changes: [{ field: rnd(2) ? 'messages' : pick(), value }] }],
  };
}

const families: Record<string, () => { body: Buffer; headers: Record<string, string> }> = {
  'random bytes, signed': () => {
    const body = randomBytes(1 + rnd(2_000));
    return { body, headers: signed(body) };
  },
  'truncated JSON, signed': () => {
    const full = validBody();
    const body = full.subarray(0, 1 + rnd(full.length - 1));
    return { body, headers: signed(body) };
  },
  'valid envelope, wrong signature': () => {
    const body = validBody();
    return {
      body,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, 'not-the-secret') },
    };
  },
  'valid envelope, no signature': () => ({ body: validBody(), headers: { 'content-type': 'application/json' } }),
  'valid envelope, garbage signature header': () => ({
    body: validBody(),
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': randomBytes(rnd(80)).toString('base64') },
  }),
  'deeply nested JSON (up to 100k levels), signed': () => {
    const body = Buffer.from(deepNest(1_000 + rnd(100_000)));
    return { body, headers: signed(body) };
  },
  'JSON that is not an envelope, signed': () => {
    const candidates = [
      '[]',
      '"text"',
      '42',
      'null',
      '{}',
      '{"object":"page","entry":[]}',
      '{"object":"whatsapp_business_account","entry":"x"}',
      '{"object":"whatsapp_business_account","entry":[{"changes":[]}]}',
    ];
    const body = Buffer.from(candidates[rnd(candidates.length)]!);
    return { body, headers: signed(body) };
  },
  'type-confused envelope, signed': () => {
    const body = Buffer.from(JSON.stringify(typeConfused()).replace('"__DEEP__"', deepNest(200 + rnd(20_000))));
    return { body, headers: signed(body) };
  },
};

async function main() {
  const url = await freshBenchDatabase();
  const port = await freePort();
  const router = await startNode('api', {
    PORT: String(port),
    DATABASE_URL: url,
    WHATSAPP_APP_SECRET: SECRET,
    WEBHOOK_BODY_LIMIT: '1mb',
    MEDIA_STORAGE: 'off',
  });
  const rows: Record<string, string | number>[] = [];
  let fiveHundreds = 0;
  try {
    for (const [name, make] of Object.entries(families)) {
      const requests = Array.from({ length: N }, () => {
        const { body, headers } = make();
        return buildRequest('/webhook', body, headers);
      });
      const counts = await runExactly(port, requests);
      fiveHundreds += Object.entries(counts)
        .filter(([s]) => Number(s) >= 500 && s !== '503')
        .reduce((n, [, c]) => n + c, 0);
      rows.push({
        family: name,
        requests: N,
        ...Object.fromEntries(Object.entries(counts).map(([s, c]) => [`HTTP ${s === '0' ? 'conn error' : s}`, c])),
      });
    }
    // Oversized: a handful of bodies past the limit.
    const big = Buffer.alloc(2 * 1024 * 1024, 0x61);
    const counts = await runExactly(
      port,
      Array.from({ length: 20 }, () => buildRequest('/webhook', big, signed(big))),
    );
    rows.push({
      family: 'oversized (2 MB > 1 MB limit), signed',
      requests: 20,
      ...Object.fromEntries(Object.entries(counts).map(([s, c]) => [`HTTP ${s}`, c])),
    });
    const alive = (await fetch(`http://127.0.0.1:${port}/health`)).status === 200;
    const stored = await withBenchClient(
      async (c) =>
        (
          await c.query<{ mensajes: number; conversaciones: number; eventos: number }>(
            `SELECT (SELECT count(*)::int FROM mensajes) AS mensajes, (SELECT count(*)::int FROM conversaciones) AS conversaciones,
              (SELECT count(*)::int FROM router_eventos WHERE tipo IN ('message', 'status')) AS eventos`,
          )
        ).rows[0]!,
    );
    const kept = await withBenchClient(
      async (c) =>
        (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM router_eventos WHERE tipo IN ('other', 'error')`))
          .rows[0]!.n,
    );
    process.stdout.write(`\nBad-input run\n${table(rows)}\n`);
    process.stdout.write(
      `router alive: ${alive}; 5xx other than 503: ${fiveHundreds}; stored from hostile input: ${stored.mensajes} messages, ${stored.conversaciones} conversations, ${stored.eventos} message/status events; ` +
        `malformed items inside valid signed envelopes kept for audit as 'other'/'error' journal rows: ${kept}\n`,
    );
    const ok =
      alive && fiveHundreds === 0 && stored.mensajes === 0 && stored.conversaciones === 0 && stored.eventos === 0;
    process.exitCode = ok ? 0 : 1;
  } finally {
    await router.stop();
  }
}

/** Sends each request once (16 at a time) and counts statuses. */
async function runExactly(port: number, requests: Buffer[]): Promise<Record<string, number>> {
  let i = 0;
  const counts: Record<string, number> = {};
  await closedLoop({
    port,
    connections: 16,
    durationMs: 10 * 60_000,
    next: () => ({
      bytes: requests[i++]!,
      done: (o) => (counts[String(o.status)] = (counts[String(o.status)] ?? 0) + 1),
    }),
    stopWhen: () => i >= requests.length,
  });
  return counts;
}

main().catch((err: unknown) => {
  process.stderr.write(`bad-input failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
