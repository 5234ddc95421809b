import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { CONTEXT_SQL, DEFAULT_CONTEXT_OPTIONS, contextParams } from '../../src/store/context-query.js';
import { signBody } from '../../src/webhook/verify-signature.js';
import { inboundEnvelope, textMessage, PHONE_NUMBER_ID } from '../../test/fixtures/whatsapp/builders.js';
import { benchDatabaseUrl, withBenchClient } from './bench-db.js';
import { buildRequest, closedLoop } from './http-load.js';
import { ROOT } from './processes.js';
import { pct, round } from './stats.js';

/** Pre-signed unique webhook requests (one text message each) for ack-path blasts. */
export function signedRequests(n: number, secret: string, phonePrefix: string): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const body = Buffer.from(
      JSON.stringify(
        inboundEnvelope(textMessage({ from: `${phonePrefix}${String(i % 50_000).padStart(6, '0')}`, body: 'hola' })),
      ),
      'utf8',
    );
    out.push(
      buildRequest('/webhook', body, {
        'content-type': 'application/json',
        'x-hub-signature-256': signBody(body, secret),
      }),
    );
  }
  return out;
}

/** Closed-loop maximum of an endpoint: requests/s and latency over `durationMs`. */
export async function blast(port: number, requests: Buffer[], connections: number, durationMs: number) {
  let i = 0;
  const stats = await closedLoop({
    port,
    connections,
    durationMs,
    next: () => ({ bytes: requests[i++ % requests.length]! }),
  });
  const ok = stats.statuses['200'] ?? 0;
  return {
    rps: round((ok / stats.elapsedMs) * 1000, 0),
    p50: round(pct(stats.latencies, 0.5), 2),
    p99: round(pct(stats.latencies, 0.99), 2),
    errors: stats.sent - ok,
  };
}

/** The bare node:http ceiling (signature + JSON.parse), in its own process like the router. */
export async function httpCeiling(secret: string, durationMs: number, connections: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-server.ts'], {
    cwd: ROOT,
    env: { ...process.env, BARE_SECRET: secret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.includes('bare listening')) resolve((JSON.parse(l) as { port: number }).port);
    });
  });
  try {
    await blast(port, signedRequests(2_000, secret, '54900000'), connections, 1_000); // warm-up
    return await blast(port, signedRequests(50_000, secret, '54900000'), connections, durationMs);
  } finally {
    child.kill('SIGTERM');
  }
}

/** pgbench: one durable INSERT per transaction into `mensajes` (same table, same indexes). */
export async function pgbenchCeiling(seconds: number, clients: number) {
  const conversationId = await withBenchClient(async (c) => {
    const contact = await c.query<{ id: string }>(
      `INSERT INTO contactos (telefono) VALUES ('+549000pgbench') RETURNING id`,
    );
    const conv = await c.query<{ id: string }>(
      `INSERT INTO conversaciones (contacto_id, telefono, linea_origen) VALUES ($1, '+549000pgbench', 'pgbench') RETURNING id`,
      [contact.rows[0]!.id],
    );
    return conv.rows[0]!.id;
  });
  const script = path.join(tmpdir(), 'psi-pgbench.sql');
  writeFileSync(
    script,
    `INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, whatsapp_message_id, metadata, "timestamp")
VALUES ('${conversationId}', 'hola', 'text', 'entrante', 'contacto', 'pgb.' || :client_id || '.' || md5(random()::text), '{}', now());\n`,
  );
  const url = new URL(benchDatabaseUrl());
  const out = execFileSync(
    'pgbench',
    [
      '-n',
      '-c',
      String(clients),
      '-j',
      '2',
      '-T',
      String(seconds),
      '-f',
      script,
      '-h',
      url.hostname,
      '-p',
      url.port || '5432',
      '-U',
      url.username || 'postgres',
      url.pathname.slice(1),
    ],
    { encoding: 'utf8' },
  );
  const tps = /tps = ([\d.]+)/.exec(out)?.[1];
  const lat = /latency average = ([\d.]+) ms/.exec(out)?.[1];
  return { tps: round(Number(tps), 0), latencyAvgMs: Number(lat) };
}

/**
 * The seed's before/after: resolving a message's context the old way (3 sequential queries:
 * contact, conversation, message + recent) against the one context query, same data, same
 * concurrency. Returns messages/s and per-message latency for each.
 */
export async function contextBeforeAfter(messages: number, concurrency: number) {
  const pool = new pg.Pool({ connectionString: benchDatabaseUrl(), max: concurrency });
  // The next phase drops this database: a connection still closing then reports an error here.
  pool.on('error', () => undefined);
  const line = PHONE_NUMBER_ID;
  const oldWay = async (i: number) => {
    const phone = `+54912${String(i % 2_000).padStart(7, '0')}`;
    // Named (prepared) statements on both sides, as the router runs them: planning is not what is compared.
    const c = await pool.query<{ id: string }>({
      name: 'old_contact',
      text: `INSERT INTO contactos (telefono) VALUES ($1) ON CONFLICT (telefono) DO UPDATE SET updated_at = contactos.updated_at RETURNING id`,
      values: [phone],
    });
    const cv = await pool.query<{ id: string }>({
      name: 'old_conversation',
      text:
        // The CRM's table has no unique key to upsert on: find, then update or insert, in one statement.
        `WITH f AS (SELECT id FROM conversaciones WHERE contacto_id = $1 AND linea_origen = $3 ORDER BY ts_ultimo_mensaje DESC NULLS LAST LIMIT 1),
            u AS (UPDATE conversaciones SET ultimo_mensaje = 'hola', ts_ultimo_mensaje = now(), mensajes_no_leidos = mensajes_no_leidos + 1
                   WHERE id = (SELECT id FROM f) RETURNING *),
            i AS (INSERT INTO conversaciones (contacto_id, telefono, linea_origen, ultimo_mensaje, ts_ultimo_mensaje, mensajes_no_leidos)
                  SELECT $1, $2, $3, 'hola', now(), 1 WHERE NOT EXISTS (SELECT 1 FROM f) RETURNING *)
       SELECT * FROM u UNION ALL SELECT * FROM i`,
      values: [c.rows[0]!.id, phone, line],
    });
    await pool.query({
      name: 'old_message',
      text: `WITH ins AS (INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, whatsapp_message_id, "timestamp")
                    VALUES ($1, 'hola', 'text', 'entrante', 'contacto', $2, now())
                    ON CONFLICT (whatsapp_message_id) WHERE whatsapp_message_id IS NOT NULL AND whatsapp_message_id <> '' DO NOTHING RETURNING id)
       SELECT id, mensaje FROM mensajes WHERE conversacion_id = $1 ORDER BY "timestamp" DESC LIMIT 10`,
      values: [cv.rows[0]!.id, `wamid.OLD.${i}`],
    });
  };
  // The new way reads its event from the journal: insert those rows first, outside the timing.
  await withBenchClient((c) =>
    c.query(
      `INSERT INTO router_eventos (clave, tipo, conv_key, wamid, linea, wa_ts, payload)
       SELECT 'm:bench.' || g, 'message', 'bench:' || g, 'wamid.NEW.' || g, '${line}', now(),
              jsonb_build_object('kind', 'message', 'from', '54912' || lpad((g % 2000)::text, 7, '0'), 'type', 'text', 'text', 'hola',
                                 'line', jsonb_build_object('phoneNumberId', '${line}'), 'timestamp', extract(epoch FROM now())::bigint)
         FROM generate_series(0, $1 - 1) g`,
      [messages],
    ),
  );
  // Each journal row has a conversation key of its own (no lease to hand back between rows) while its
  // payload names one of the same 2,000 customers the old way uses: the same upserts, one round trip.
  const newWay = async (i: number) => {
    await pool.query({
      name: 'context',
      text: CONTEXT_SQL,
      values: contextParams(`bench:${i}`, 'bench', 30_000, 10_000, DEFAULT_CONTEXT_OPTIONS),
    });
  };
  const run = async (fn: (i: number) => Promise<void>) => {
    const lat: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (;;) {
          const i = next++;
          if (i >= messages) return;
          const s = performance.now();
          await fn(i);
          lat.push(performance.now() - s);
        }
      }),
    );
    return {
      perSecond: round((messages / (performance.now() - t0)) * 1000, 0),
      p50: round(pct(lat, 0.5), 2),
      p99: round(pct(lat, 0.99), 2),
    };
  };
  try {
    const before = await run(oldWay);
    const after = await run(newWay);
    return { before: { roundTrips: 3, ...before }, after: { roundTrips: 1, ...after } };
  } finally {
    await pool.end();
  }
}
