import { createServer, type Server } from 'node:http';
import { startGraphSimulator, type GraphSimulator } from '../../src/simulator/graph-simulator.js';
import { PHONE_NUMBER_ID } from '../../test/fixtures/whatsapp/builders.js';
import { withBenchClient } from './bench-db.js';
import { ConversationLoad, STEPS_PER_CUSTOMER } from './conversations.js';
import { openLoop } from './http-load.js';
import { metric, type NodeProcess } from './processes.js';
import { EVOLUTION_EVERY, evolutionAudit, startEvolutionOutside } from './evolution-load.js';
import type { EvolutionSimulator } from '../../src/simulator/evolution/evolution-simulator.js';
import { pct, round } from './stats.js';

// The routers run with NODE_ENV=production, which refuses credentials under 32 characters.
export const SECRET = 'bench-app-secret-9c2f4a7e1b8d3f60';
export const SIM_TOKEN = 'bench-sim-token-e4b7c1a9f2d85036';

export interface StepResult {
  rate: number;
  seconds: number;
  sent: number;
  acked: number;
  errors: number;
  duplicates: number;
  ackP50: number;
  ackP99: number;
  e2eP50: number;
  e2eP99: number;
  repliesMissing: number;
  /** Evolution traffic of the step (every BENCH_EVOLUTION_EVERY-th customer): acknowledged, lost, doubled. */
  evolution: { acked: number; lost: number; doubled: number };
  /** Conversations (Cloud API and Evolution) processed out of WhatsApp order or two messages at once. */
  outOfOrder: number;
  drainMs: number;
  stmtsPerMsg: number;
  peakRssMiB: number;
  ok: boolean;
}

/** The third parties of a benchmark run, in this process: Graph and Evolution simulators and an area inbox. */
export interface Outside {
  sim: GraphSimulator;
  evolution: EvolutionSimulator;
  inbox: Server;
  inboxUrl: string;
  inboxHits: () => number;
  close(): Promise<void>;
}

export async function startOutside(routerPort: number): Promise<Outside> {
  const sim = await startGraphSimulator({
    accessToken: SIM_TOKEN,
    statusWebhook: { url: `http://127.0.0.1:${routerPort}/webhook`, appSecret: SECRET },
    maxRecorded: 500_000,
  });
  let hits = 0;
  const inbox = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits += 1;
      res.writeHead(200, { 'content-length': 2 }).end('{}');
    });
  });
  inbox.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => inbox.listen(0, '127.0.0.1', r));
  const address = inbox.address();
  const inboxUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  await withBenchClient(async (c) => {
    await c.query(`UPDATE router_areas SET inbox_webhook_url = $1 || '/' || id`, [inboxUrl]);
    // The script's customers type MENU while derived and expect the menu back: the main line leaves a
    // derived conversation to its agent by default (commandsWhenDerived), so the bench's line opts in.
    await c.query(
      `INSERT INTO router_lineas (codigo, nombre, tipo, phone_number_id, flujo, ajustes)
       VALUES ('wsp4', 'WSP4', 'cloud', $1, 'menu', '{"commandsWhenDerived": true}')
       ON CONFLICT (codigo) DO UPDATE SET phone_number_id = excluded.phone_number_id, ajustes = excluded.ajustes`,
      [PHONE_NUMBER_ID],
    );
  });
  const evolution = await startEvolutionOutside(routerPort);
  return {
    sim,
    evolution,
    inbox,
    inboxUrl,
    inboxHits: () => hits,
    async close() {
      await sim.close();
      await evolution.close();
      inbox.closeAllConnections();
      await new Promise<void>((r) => inbox.close(() => r()));
    },
  };
}

/** Pending work anywhere in the router: journal events and unsent outbox rows. */
async function backlog(): Promise<number> {
  return withBenchClient(async (c) => {
    const r = await c.query<{ n: number }>(
      `SELECT ((SELECT count(*) FROM router_eventos WHERE estado = 'pendiente') + (SELECT count(*) FROM router_outbox WHERE estado IN ('pendiente', 'enviando')))::int AS n`,
    );
    return r.rows[0]!.n;
  });
}

/**
 * One step of the ramp: `rate` inbound messages/s for `seconds` (realistic conversations, fresh
 * customers), then wait until the router has drained (journal, outbox, expected replies). Latency
 * end to end is webhook sent → reply accepted by the Graph simulator.
 */
export async function runStep(args: {
  rate: number;
  seconds: number;
  ackPort: number;
  outside: Outside;
  /** Processes whose /metrics are summed for statements per message, and whose RSS is sampled. */
  metered: { port: number; proc: NodeProcess }[];
  phonePrefix: string;
  limits: { ackP99: number; e2eP99: number; drainMs: number };
}): Promise<StepResult> {
  const { outside } = args;
  const customers = Math.ceil((args.rate * args.seconds) / STEPS_PER_CUSTOMER);
  const load = new ConversationLoad({
    secret: SECRET,
    phonePrefix: args.phonePrefix,
    customers,
    duplicateEvery: 40,
    evolutionEvery: EVOLUTION_EVERY,
  });
  let cursor = outside.sim.sent.length;
  const harvest = () => {
    const sent = outside.sim.sent;
    for (; cursor < sent.length; cursor++) {
      const m = sent[cursor]!;
      if (m.to.startsWith(args.phonePrefix)) load.replied(m.to, m.at);
    }
  };
  const harvester = setInterval(harvest, 50);
  const stmtsBefore = await sumMetric(args.metered, 'psi_router_db_statements_total');
  const stats = await openLoop({
    port: args.ackPort,
    rate: args.rate,
    durationMs: args.seconds * 1000,
    maxConnections: 128,
    next: () => load.next(),
  });
  const drainStart = performance.now();
  let drainMs = -1;
  while (performance.now() - drainStart < 30_000) {
    harvest();
    if (load.outstandingReplies() === 0 && (await backlog()) === 0) {
      drainMs = performance.now() - drainStart;
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  clearInterval(harvester);
  harvest();
  const stmtsAfter = await sumMetric(args.metered, 'psi_router_db_statements_total');
  const acked = stats.statuses['200'] ?? 0;
  const evo = await evolutionAudit(load.evolutionAcked);
  const inbound = load.inbound.length;
  const result: StepResult = {
    rate: args.rate,
    seconds: args.seconds,
    sent: stats.sent,
    acked,
    errors: stats.sent - acked,
    duplicates: load.duplicatesSent,
    ackP50: round(pct(stats.latencies, 0.5), 2),
    ackP99: round(pct(stats.latencies, 0.99), 2),
    e2eP50: round(pct(load.e2e, 0.5), 1),
    e2eP99: round(pct(load.e2e, 0.99), 1),
    repliesMissing: load.outstandingReplies(),
    evolution: { acked: load.evolutionAcked.length, lost: evo.lost, doubled: evo.doubled },
    outOfOrder: evo.outOfOrder,
    drainMs: Math.round(drainMs),
    stmtsPerMsg: round((stmtsAfter - stmtsBefore) / Math.max(1, inbound), 2),
    peakRssMiB: round(Math.max(...args.metered.map((m) => m.proc.peakRssMiB())), 0),
    ok: false,
  };
  result.ok =
    result.errors === 0 &&
    result.repliesMissing === 0 &&
    result.evolution.lost === 0 &&
    result.evolution.doubled === 0 &&
    result.outOfOrder === 0 &&
    drainMs >= 0 &&
    drainMs <= args.limits.drainMs &&
    result.ackP99 <= args.limits.ackP99 &&
    result.e2eP99 <= args.limits.e2eP99;
  return result;
}

async function sumMetric(metered: { port: number }[], name: string): Promise<number> {
  let sum = 0;
  for (const m of metered) sum += await metric(m.port, name).catch(() => 0);
  return sum;
}
