import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freshBenchDatabase, benchDatabaseUrl } from './lib/bench-db.js';
import { table } from './lib/stats.js';

/**
 * `npm run faults`: the guarantees under faults, counted. Every scenario runs customers writing
 * (with Meta-like redelivery of anything that did not get a 200) while faults are injected, waits
 * until nothing is pending, and audits every acknowledged wamid: stored once, answered once, in order.
 *   A. kill -9 of direct-mode router processes (2 running) at random moments, restarted each time
 *   B. kill -9 of queue-mode workers (api + 2 workers) at random moments, restarted each time
 *   C. PostgreSQL restarted under load (direct mode)
 *   D. Redis restarted under load (queue mode; a Redis with AOF, as production must run it)
 *   E. Graph API outage, then a storm of 130429 throughput errors
 * Then the bad-input run (bench/bad-input.ts). Exits non-zero if anything was lost or out of order.
 */
process.env.TEST_DATABASE_URL = benchDatabaseUrl();
const { audit } = await import('../test/helpers/audit.js');
const { customersWriting } = await import('../test/helpers/load.js');
const { spawnRouter, spawnWorker } = await import('../test/helpers/spawn-router.js');
const { withClient } = await import('../test/helpers/reset-db.js');
const { startGraphSimulator, metaFailures } = await import('../src/simulator/graph-simulator.js');
const { TEST_APP_SECRET } = await import('../test/helpers/test-config.js');
const { PHONE_NUMBER_ID } = await import('../test/fixtures/whatsapp/builders.js');
/** The ads number of scenario F: another business number on the same WABA. */
const ADS_PHONE_NUMBER_ID = '109000000000077';
type RouterProcess = Awaited<ReturnType<typeof spawnRouter>>;

const QUICK = process.env.BENCH_QUICK === '1';
const execFileAsync = promisify(execFile);
const KILLS = Number(process.env.FAULT_KILLS ?? (QUICK ? 4 : 10));
const log = (m: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);
const rows: Record<string, string | number>[] = [];

async function settle(redisUrl?: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let jobs = 0;
    if (redisUrl) {
      const out = execFileSync(
        'redis-cli',
        [
          '-u',
          redisUrl,
          'EVAL',
          "local n = 0 for _, k in ipairs({'wait','active','delayed','prioritized'}) do local key = 'bull:psi-inbound:' .. k local t = redis.call('TYPE', key)['ok'] if t == 'list' then n = n + redis.call('LLEN', key) elseif t == 'zset' then n = n + redis.call('ZCARD', key) end end return n",
          '0',
        ],
        { encoding: 'utf8' },
      );
      jobs = Number(out.trim());
    }
    const pending = await withClient(
      async (c) =>
        (
          await c.query<{ n: number }>(
            `SELECT ((SELECT count(*) FROM router_eventos WHERE estado = 'pendiente') + (SELECT count(*) FROM router_outbox WHERE estado IN ('pendiente', 'enviando')))::int AS n`,
          )
        ).rows[0]!.n,
    );
    if (jobs + pending === 0) return;
    if (Date.now() > deadline) throw new Error(`not settled: ${jobs} jobs, ${pending} pending rows`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface RunResult {
  acked: string[];
  kills: number;
  redisUrl?: string;
  /** Stops the processes; called after the audit (they must keep working until everything settled). */
  stop: () => Promise<void>;
}

async function scenario(
  name: string,
  run: (sim: Awaited<ReturnType<typeof startGraphSimulator>>) => Promise<RunResult>,
) {
  await freshBenchDatabase();
  const sim = await startGraphSimulator({ accessToken: 'fault-token' });
  let stop: (() => Promise<void>) | null = null;
  try {
    log(`${name} …`);
    const result = await run(sim);
    stop = result.stop;
    const { acked, kills, redisUrl } = result;
    await settle(redisUrl);
    const a = await audit(acked, sim);
    log(`${name}: ${JSON.stringify(a)}`);
    rows.push({
      scenario: name,
      kills,
      acked: a.acked,
      lost: a.lost,
      'stored twice': a.storedTwice,
      unanswered: a.unanswered,
      'answered twice': a.answeredTwice,
      'out of order': a.outOfOrderReplies,
      overlapping: a.overlappingProcessing,
      'sent twice (Graph)': a.sentTwiceAtSimulator,
    });
  } finally {
    await stop?.();
    await sim.close();
  }
}

const baseEnv = (simUrl: string): Record<string, string> => ({
  DATABASE_URL: benchDatabaseUrl(),
  WHATSAPP_APP_SECRET: TEST_APP_SECRET,
  WHATSAPP_VERIFY_TOKEN: 'faults',
  WHATSAPP_ACCESS_TOKEN: 'fault-token',
  WHATSAPP_API_URL: simUrl,
  MEDIA_STORAGE: 'off',
  LEASE_MS: '2000',
  SWEEP_INTERVAL_MS: '200',
  OUTBOX_POLL_MS: '50',
  OUTBOX_CLAIM_MS: '3000',
  GRAPH_TIMEOUT_MS: '1000',
  QUEUE_LOCK_MS: '2000',
  GRAPH_CIRCUIT_OPEN_MS: '500',
});

async function waitForRedis(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if (execFileSync('redis-cli', ['-p', String(port), 'PING'], { encoding: 'utf8' }).trim() === 'PONG') return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis on ${port} did not start`);
}

/** Kills a random process of `procs` every `every` acknowledgements, restarting it at once. */
function killer(procs: RouterProcess[], restart: (i: number) => Promise<RouterProcess>, every: number, max: number) {
  let kills = 0;
  let busy = false;
  let nextAt = every;
  return {
    kills: () => kills,
    onAck: async (n: number) => {
      if (busy || kills >= max || n < nextAt) return;
      busy = true;
      nextAt = n + every;
      const i = Math.floor(Math.random() * procs.length);
      await procs[i]!.kill9();
      kills += 1;
      procs[i] = await restart(i);
      busy = false;
    },
  };
}

async function main() {
  // The scenarios spawn the compiled entry points: build them from the current source first.
  log('building dist/ …');
  execFileSync('npm', ['run', 'build'], { cwd: path.resolve(import.meta.dirname, '..'), stdio: 'ignore' });
  const only = process.env.FAULT_ONLY;
  const want = (letter: string) => !only || only.includes(letter);
  // A. direct mode, two routers, kill -9 at random
  if (want('A'))
    await scenario(`A. kill -9 routers (direct, 2 processes)`, async (sim) => {
      const env = baseEnv(sim.url);
      const procs = [await spawnRouter(env), await spawnRouter(env)];
      const k = killer(procs, () => spawnRouter(env), 25, KILLS);
      // Customers keep writing until every planned kill has happened under load.
      const load = await customersWriting({
        urls: () => procs.filter((p) => p.child.exitCode === null).map((p) => p.url),
        customers: 40,
        perCustomer: QUICK ? 6 : 12,
        phonePrefix: '549119100',
        redeliver: true,
        onAck: k.onAck,
        keepGoing: () => k.kills() < KILLS,
      });
      return {
        acked: load.acked,
        kills: k.kills(),
        stop: async () => void (await Promise.all(procs.map((p) => p.stop()))),
      };
    });

  // B. queue mode, api + two workers, kill -9 workers at random
  if (want('B'))
    await scenario(`B. kill -9 workers (queue, api + 2 workers)`, async (sim) => {
      const redisUrl = 'redis://127.0.0.1:6379/10';
      execFileSync('redis-cli', ['-u', redisUrl, 'FLUSHDB'], { stdio: 'ignore' });
      const env = { ...baseEnv(sim.url), QUEUE_MODE: 'bullmq', REDIS_URL: redisUrl };
      const api = await spawnRouter(env);
      const workers = [await spawnWorker(env), await spawnWorker(env)];
      const k = killer(workers, () => spawnWorker(env), 25, KILLS);
      const load = await customersWriting({
        urls: () => [api.url],
        customers: 40,
        perCustomer: QUICK ? 6 : 12,
        phonePrefix: '549119200',
        redeliver: true,
        onAck: k.onAck,
        keepGoing: () => k.kills() < KILLS,
      });
      return {
        acked: load.acked,
        kills: k.kills(),
        redisUrl,
        stop: async () => void (await Promise.all([api, ...workers].map((p) => p.stop()))),
      };
    });

  // C. PostgreSQL restart under load
  if (want('C'))
    await scenario('C. PostgreSQL restart under load (direct)', async (sim) => {
      const env = baseEnv(sim.url);
      const procs = [await spawnRouter(env), await spawnRouter(env)];
      const version = readdirSync('/etc/postgresql')[0]!;
      let restarted = false;
      {
        const load = await customersWriting({
          urls: () => procs.map((p) => p.url),
          customers: 30,
          perCustomer: QUICK ? 6 : 10,
          phonePrefix: '549119300',
          redeliver: true,
          onAck: (n) => {
            if (restarted || n < 60) return;
            restarted = true;
            // Asynchronously: the Graph simulator lives in this process and must keep answering meanwhile
            // (a frozen simulator would turn the restart into Graph timeouts, a different fault).
            return execFileAsync('pg_ctlcluster', [
              '--skip-systemctl-redirect',
              version,
              'main',
              'restart',
              '-m',
              'fast',
            ]).then(() => undefined);
          },
        });
        const stop = async () => {
          const warnings = new Map<string, number>();
          for (const p of procs)
            for (const l of p.logs)
              if (l['level'] === 'warn' || l['level'] === 'error')
                warnings.set(String(l['msg']), (warnings.get(String(l['msg'])) ?? 0) + 1);
          log(`C warnings: ${JSON.stringify([...warnings])}`);
          await Promise.all(procs.map((p) => p.stop()));
        };
        return { acked: load.acked, kills: 0, stop };
      }
    });

  // D. Redis restart under load: a Redis of our own with AOF fsync always (what production needs)
  if (want('D'))
    await scenario('D. Redis restart under load (queue, AOF)', async (sim) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'psi-redis-'));
      const port = 6391;
      const redisArgs = [
        '--daemonize',
        'yes',
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
      ];
      execFileSync('redis-server', redisArgs, { stdio: 'ignore' });
      const redisUrl = `redis://127.0.0.1:${port}`;
      await waitForRedis(port);
      const env = { ...baseEnv(sim.url), QUEUE_MODE: 'bullmq', REDIS_URL: redisUrl };
      const api = await spawnRouter(env);
      const workers = [await spawnWorker(env), await spawnWorker(env)];
      let restarted = false;
      {
        const load = await customersWriting({
          urls: () => [api.url],
          customers: 30,
          perCustomer: QUICK ? 6 : 10,
          phonePrefix: '549119400',
          redeliver: true,
          onAck: (n) => {
            if (restarted || n < 60) return;
            restarted = true;
            return execFileAsync('redis-cli', ['-p', String(port), 'SHUTDOWN'])
              .catch(() => undefined)
              .then(() => execFileAsync('redis-server', redisArgs))
              .then(() => waitForRedis(port));
          },
        });
        const stop = async () => {
          await Promise.all([api, ...workers].map((p) => p.stop()));
          try {
            execFileSync('redis-cli', ['-p', String(port), 'SHUTDOWN', 'NOSAVE'], { stdio: 'ignore' });
          } catch {
            // already gone
          }
          rmSync(dir, { recursive: true, force: true });
        };
        return { acked: load.acked, kills: 0, redisUrl, stop };
      }
    });

  // F. the ads number (ventas_api, the funnel) beside the main menu, kill -9 at random
  if (want('F'))
    await scenario(`F. kill -9 routers, ads number + main menu (direct, 2 processes)`, async (sim) => {
      await withClient((c) =>
        c.query(
          `INSERT INTO router_lineas (codigo, nombre, tipo, phone_number_id, flujo)
           VALUES ('wsp4', 'WSP4', 'cloud', $1, 'menu'), ('ventas_api', 'Ventas API', 'cloud', $2, 'ads')`,
          [PHONE_NUMBER_ID, ADS_PHONE_NUMBER_ID],
        ),
      );
      const env = baseEnv(sim.url);
      const procs = [await spawnRouter(env), await spawnRouter(env)];
      const k = killer(procs, () => spawnRouter(env), 25, KILLS);
      const urls = () => procs.filter((p) => p.child.exitCode === null).map((p) => p.url);
      // Leads without an ad: every message is answered (the funnel's direct-entry buttons).
      const [ads, menu] = await Promise.all([
        customersWriting({
          urls,
          customers: 20,
          perCustomer: QUICK ? 6 : 12,
          phonePrefix: '549119600',
          phoneNumberId: ADS_PHONE_NUMBER_ID,
          redeliver: true,
          onAck: k.onAck,
          keepGoing: () => k.kills() < KILLS,
        }),
        customersWriting({
          urls,
          customers: 20,
          perCustomer: QUICK ? 6 : 12,
          phonePrefix: '549119700',
          redeliver: true,
          keepGoing: () => k.kills() < KILLS,
        }),
      ]);
      return {
        acked: [...ads.acked, ...menu.acked],
        kills: k.kills(),
        stop: async () => void (await Promise.all(procs.map((p) => p.stop()))),
      };
    });

  // E. Graph outage, then a 429 storm
  if (want('E'))
    await scenario('E. Graph outage + 130429 storm', async (sim) => {
      const env = baseEnv(sim.url);
      const procs = [await spawnRouter(env)];
      let phase = 0;
      {
        const load = await customersWriting({
          urls: () => [procs[0]!.url],
          customers: 30,
          perCustomer: QUICK ? 4 : 8,
          phonePrefix: '549119500',
          redeliver: true,
          onAck: (n) => {
            if (phase === 0 && n >= 30) {
              phase = 1;
              sim.setDown(true);
              setTimeout(() => {
                sim.setDown(false);
                sim.script(...Array.from({ length: 20 }, () => metaFailures.rateLimitHit()));
              }, 3_000);
            }
          },
        });
        return { acked: load.acked, kills: 0, stop: async () => void (await Promise.all(procs.map((p) => p.stop()))) };
      }
    });

  process.stdout.write(`\nFault runs (every acknowledged wamid audited)\n${table(rows)}\n`);
  const kills = rows.reduce((n, r) => n + Number(r['kills']), 0);
  process.stdout.write(`total process kills: ${kills}\n\n`);

  log('bad-input run …');
  const bad = spawn(process.execPath, ['--import', 'tsx', 'bench/bad-input.ts'], {
    stdio: 'inherit',
    env: process.env,
  });
  const badCode = await new Promise<number | null>((r) => bad.once('exit', r));
  const broken = rows.some(
    (r) =>
      r['lost'] !== 0 ||
      r['out of order'] !== 0 ||
      r['stored twice'] !== 0 ||
      r['unanswered'] !== 0 ||
      r['overlapping'] !== 0,
  );
  process.exit(broken || badCode !== 0 ? 1 : 0);
}

main().catch((err: unknown) => {
  process.stderr.write(`faults failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
