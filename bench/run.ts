import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { freshBenchDatabase } from './lib/bench-db.js';
import { ROOT, startNode, type NodeProcess } from './lib/processes.js';
import { SECRET, SIM_TOKEN, runStep, startOutside, type StepResult } from './lib/ramp.js';
import { blast, contextBeforeAfter, httpCeiling, pgbenchCeiling, signedRequests } from './lib/reference.js';
import { round, table } from './lib/stats.js';
import { mediaIsolation } from './lib/media-phase.js';
import { routerEnv } from './lib/router-env.js';
import { cpuPerMessage } from './lib/cpu-phase.js';
import { freePort } from '../test/helpers/start-router.js';
import { BENCH_EVOLUTION_KEY } from './lib/evolution-load.js';

/**
 * `npm run bench`: figures for speed on this machine, reproducible with one command.
 *   1. reference points: bare node:http ceiling, pgbench durable-insert ceiling, old 3-query context
 *      vs the one context query;
 *   2. direct mode: a ramp of realistic conversations to find the highest sustained rate, then the
 *      latency at half that rate; the ack path alone (closed loop);
 *   3. queue mode (api + workers): the same ramp, and the ack path alone.
 * Prints tables and writes bench/results/<timestamp>.json. BENCH_QUICK=1 shortens every phase.
 */
const QUICK = process.env.BENCH_QUICK === '1';
const STEP_S = QUICK ? 4 : 10;
const RATES = (process.env.BENCH_RATES ?? (QUICK ? '50,150,300' : '50,100,150,200,300,400,600,800,1000,1500'))
  .split(',')
  .map(Number);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const LIMITS = { ackP99: 100, e2eP99: 1000, drainMs: 5000 };

const log = (msg: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

/** Evolution lines of a ramp: the simulator's URL and key, sends spaced as loosely as allowed. */
function evolutionEnv(outside: { evolution: { url: string } }): Record<string, string> {
  return {
    EVOLUTION_API_URL: outside.evolution.url,
    EVOLUTION_API_KEY: BENCH_EVOLUTION_KEY,
    EVOLUTION_SEND_RATE_PER_SECOND: '50',
  };
}

async function ramp(
  label: string,
  ackPort: number,
  metered: { port: number; proc: NodeProcess }[],
  outside: Awaited<ReturnType<typeof startOutside>>,
) {
  const steps: StepResult[] = [];
  let prefix = 5491130;
  // Warm-up, not counted: JIT, pools and prepared statements of every process. Without it the first
  // step of queue mode (three processes warming up at once) failed on its ack p99 alone, in every run.
  await runStep({
    rate: RATES[0]!,
    seconds: QUICK ? 2 : 4,
    ackPort,
    outside,
    metered,
    phonePrefix: String(prefix++),
    limits: LIMITS,
  });
  for (const rate of RATES) {
    const r = await runStep({
      rate,
      seconds: STEP_S,
      ackPort,
      outside,
      metered,
      phonePrefix: String(prefix++),
      limits: LIMITS,
    });
    steps.push(r);
    log(
      `${label} ${rate}/s: ok=${r.ok} ack p99 ${r.ackP99} ms, e2e p99 ${r.e2eP99} ms, drain ${r.drainMs} ms, errors ${r.errors}, missing ${r.repliesMissing}, evolution ${r.evolution.acked} acked / ${r.evolution.lost} lost / ${r.evolution.doubled} doubled, out of order ${r.outOfOrder}`,
    );
    if (!r.ok) break;
  }
  const sustained = [...steps].reverse().find((s) => s.ok)?.rate ?? 0;
  const halfRate = Math.max(50, Math.floor(sustained / 2));
  const half = await runStep({
    rate: halfRate,
    seconds: STEP_S,
    ackPort,
    outside,
    metered,
    phonePrefix: String(prefix++),
    limits: LIMITS,
  });
  log(`${label} half rate ${halfRate}/s: ack p99 ${half.ackP99} ms, e2e p99 ${half.e2eP99} ms`);
  return { steps, sustained, half };
}

async function directMode() {
  const databaseUrl = await freshBenchDatabase();
  const port = await freePort();
  const outside = await startOutside(port);
  const api = await startNode('api', {
    ...routerEnv(databaseUrl, port),
    WHATSAPP_API_URL: outside.sim.url,
    ...evolutionEnv(outside),
  });
  try {
    const result = await ramp('direct', port, [{ port, proc: api }], outside);
    const ackPath = await blast(
      port,
      signedRequests(QUICK ? 20_000 : 60_000, SECRET, '54914'),
      64,
      QUICK ? 3_000 : 8_000,
    );
    log(`direct ack path (closed loop): ${ackPath.rps} req/s, p99 ${ackPath.p99} ms`);
    return { ...result, ackPath, peakRssMiB: round(api.peakRssMiB(), 0) };
  } finally {
    await api.stop();
    await outside.close();
  }
}

async function queueMode() {
  const databaseUrl = await freshBenchDatabase();
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/9';
  execFileSync('redis-cli', ['-u', redisUrl, 'FLUSHDB'], { stdio: 'ignore' });
  const port = await freePort();
  const outside = await startOutside(port);
  const q = { QUEUE_MODE: 'bullmq', REDIS_URL: redisUrl, WHATSAPP_API_URL: outside.sim.url, ...evolutionEnv(outside) };
  const api = await startNode('api', { ...routerEnv(databaseUrl, port), ...q });
  const workers: NodeProcess[] = [];
  for (let i = 0; i < WORKERS; i++)
    workers.push(await startNode('worker', { ...routerEnv(databaseUrl, 0), ...q, WORKER_METRICS_PORT: '0' }));
  try {
    const metered = [{ port, proc: api }, ...workers.map((w) => ({ port: w.port, proc: w }))];
    const result = await ramp(`queue(${WORKERS}w)`, port, metered, outside);
    const withWorkers = await blast(
      port,
      signedRequests(QUICK ? 20_000 : 60_000, SECRET, '54915'),
      64,
      QUICK ? 3_000 : 8_000,
    );
    log(`queue ack path with workers running: ${withWorkers.rps} req/s, p99 ${withWorkers.p99} ms`);
    // The ack path alone: workers stopped, so the api has the machine; jobs pile up in Redis.
    await Promise.all(workers.map((w) => w.stop()));
    workers.length = 0;
    const alone = await blast(
      port,
      signedRequests(QUICK ? 30_000 : 100_000, SECRET, '54916'),
      64,
      QUICK ? 3_000 : 8_000,
    );
    log(`queue ack path alone: ${alone.rps} req/s, p99 ${alone.p99} ms`);
    return {
      ...result,
      ackPath: alone,
      ackPathWithWorkers: withWorkers,
      peakRssMiB: round(Math.max(...metered.map((m) => m.proc.peakRssMiB())), 0),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await api.stop();
    await outside.close();
    execFileSync('redis-cli', ['-u', redisUrl, 'FLUSHDB'], { stdio: 'ignore' });
  }
}

async function main() {
  log('building dist/ …');
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    memGiB: round(totalmem() / 2 ** 30, 0),
    node: process.version,
  };
  log(`machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memGiB} GiB, Node ${machine.node}`);

  await freshBenchDatabase();
  log('reference: bare node:http (signature + JSON.parse) …');
  const http = await httpCeiling(SECRET, QUICK ? 3_000 : 8_000, 64);
  log('reference: pgbench one INSERT per transaction into mensajes …');
  const pgb = await pgbenchCeiling(QUICK ? 3 : 8, 8);
  log('reference: context the old way (3 queries) vs the one query …');
  const ctx = await contextBeforeAfter(QUICK ? 2_000 : 8_000, 8);

  log('CPU per message: closed loop of 100 customers, GRAPH_RATE_PER_SECOND=1000 …');
  const cpu = await cpuPerMessage(routerEnv, 100, QUICK ? 8 : 20);
  log(
    `cpu: router ${cpu.routerMsPerMsg} ms/msg, postgres ${cpu.postgresMsPerMsg} ms/msg, load ${cpu.loadMsPerMsg} ms/msg at ${cpu.rate} msg/s`,
  );

  log('direct mode …');
  const direct = await directMode();
  log('queue mode …');
  const queue = await queueMode();
  const mediaRate = Math.max(20, Math.floor(direct.sustained / 2));
  log(`media isolation at ${mediaRate} text msg/s …`);
  const media = await mediaIsolation((url, port) => routerEnv(url, port), mediaRate, STEP_S);
  log(
    `media: text e2e p99 alone ${media.alone.e2eP99} ms, with ${media.mediaInFlightAtStart} downloads in flight ${media.during.e2eP99} ms`,
  );

  const modeRow = (mode: string, m: typeof direct | typeof queue) => ({
    mode,
    'sustained msg/s': m.sustained,
    'ack p50 ms': m.half.ackP50,
    'ack p99 ms': m.half.ackP99,
    'e2e p50 ms': m.half.e2eP50,
    'e2e p99 ms': m.half.e2eP99,
    'at msg/s': m.half.rate,
    'stmts/msg': m.steps.find((s) => s.rate === m.sustained)?.stmtsPerMsg ?? m.half.stmtsPerMsg,
    'ack-path req/s': m.ackPath.rps,
    'ack-path p99 ms': m.ackPath.p99,
    'peak RSS MiB': m.peakRssMiB,
  });
  const results = {
    date: new Date().toISOString(),
    machine,
    settings: { stepSeconds: STEP_S, rates: RATES, workers: WORKERS, limits: LIMITS },
    reference: { http, pgbench: pgb, context: ctx },
    cpu,
    direct,
    queue,
    media,
  };
  process.stdout.write('\nRouter (latencies at half the sustained rate; ack path = closed loop, 64 connections)\n');
  process.stdout.write(`${table([modeRow('direct', direct), modeRow(`queue (${WORKERS} workers)`, queue)])}\n\n`);
  process.stdout.write('CPU per routed message (closed loop of 100 customers, direct mode, /proc utime + stime)\n');
  process.stdout.write(
    `${table([
      {
        'msg/s': cpu.rate,
        replies: cpu.replies,
        'router ms/msg': cpu.routerMsPerMsg,
        'postgres ms/msg': cpu.postgresMsPerMsg,
        'load generator ms/msg': cpu.loadMsPerMsg,
        'router ms/reply': cpu.routerMsPerReply,
        'postgres ms/reply': cpu.postgresMsPerReply,
        'ack p99 ms': cpu.ackP99,
        'e2e p99 ms': cpu.e2eP99,
        'peak RSS MiB': cpu.peakRssMiB,
      },
    ])}\n\n`,
  );
  process.stdout.write('Reference points\n');
  process.stdout.write(
    `${table([
      {
        what: 'bare node:http, signature + JSON.parse',
        'per second': http.rps,
        'p99 ms': http.p99,
        ratio: `router direct ack path = ${round(direct.ackPath.rps / http.rps, 2)}× · queue = ${round(queue.ackPath.rps / http.rps, 2)}×`,
      },
      {
        what: 'pgbench, 1 INSERT into mensajes per tx (8 clients)',
        'per second': pgb.tps,
        'p99 ms': '-',
        ratio: `router sustained direct = ${round(direct.sustained / pgb.tps, 2)}× of it`,
      },
      {
        what: 'context: 3 sequential queries (before)',
        'per second': ctx.before.perSecond,
        'p99 ms': ctx.before.p99,
        ratio: '',
      },
      {
        what: 'context: one query (after)',
        'per second': ctx.after.perSecond,
        'p99 ms': ctx.after.p99,
        ratio: `${round(ctx.after.perSecond / ctx.before.perSecond, 2)}× throughput, p50 ${ctx.before.p50} → ${ctx.after.p50} ms`,
      },
    ])}\n\n`,
  );
  process.stdout.write('Media isolation (text load alone vs. with 100 × 4 MiB image downloads in flight)\n');
  process.stdout.write(
    `${table([
      {
        run: 'text alone',
        'msg/s': media.alone.rate,
        'ack p50': media.alone.ackP50,
        'ack p99': media.alone.ackP99,
        'e2e p50': media.alone.e2eP50,
        'e2e p99': media.alone.e2eP99,
        'media in flight': 0,
      },
      {
        run: 'text + media',
        'msg/s': media.during.rate,
        'ack p50': media.during.ackP50,
        'ack p99': media.during.ackP99,
        'e2e p50': media.during.e2eP50,
        'e2e p99': media.during.e2eP99,
        'media in flight': media.mediaInFlightAtStart,
      },
    ])}\n(${media.mediaDownloaded} of 100 downloaded and stored)\n\n`,
  );
  process.stdout.write('Ramp steps\n');
  const stepRows = (mode: string, m: typeof direct) =>
    m.steps.map((s) => ({
      mode,
      'msg/s': s.rate,
      ok: s.ok ? 'yes' : 'NO',
      errors: s.errors,
      'ack p99': s.ackP99,
      'e2e p50': s.e2eP50,
      'e2e p99': s.e2eP99,
      'drain ms': s.drainMs,
      'stmts/msg': s.stmtsPerMsg,
    }));
  process.stdout.write(`${table([...stepRows('direct', direct), ...stepRows('queue', queue)])}\n`);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL(`./results/${results.date.replace(/[:.]/g, '-')}.json`, import.meta.url);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`results written to bench/results/${results.date.replace(/[:.]/g, '-')}.json`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
