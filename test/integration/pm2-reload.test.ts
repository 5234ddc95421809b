import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../src/simulator/graph-simulator.js';
import { audit } from '../helpers/audit.js';
import { customersWriting } from '../helpers/load.js';
import { migrateTestDatabase, resetDatabase, withClient } from '../helpers/reset-db.js';
import { freePort } from '../helpers/start-router.js';
import { TEST_APP_SECRET, TEST_DATABASE_URL } from '../helpers/test-config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PM2 = path.join(ROOT, 'node_modules/.bin/pm2');
const run = promisify(execFile);
const SIM_TOKEN = 'pm2-sim-token-4c8e1b0f7a2d9365-0b7e';

/**
 * The shipped ecosystem.config.js under the real PM2: start the cluster, then `pm2 reload` while
 * customers are writing — a deploy must not lose (or duplicate) an acknowledged message.
 */
describe('PM2: start and graceful reload under load', () => {
  let pm2Home: string;
  let env: NodeJS.ProcessEnv;
  let sim: GraphSimulator;
  let port: number;

  beforeAll(async () => {
    await resetDatabase();
    await migrateTestDatabase();
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
    sim = await startGraphSimulator({ accessToken: SIM_TOKEN });
    pm2Home = mkdtempSync(path.join(tmpdir(), 'psi-pm2-'));
    port = await freePort();
    env = {
      ...process.env,
      PM2_HOME: pm2Home,
      ROUTER_INSTANCES: '2',
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      DATABASE_URL: TEST_DATABASE_URL,
      // Production refuses credentials under 32 characters (src/secret-rules.ts).
      WHATSAPP_APP_SECRET: TEST_APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: 'pm2-verify-token-0d6b3f9e2a71c485',
      WHATSAPP_ACCESS_TOKEN: SIM_TOKEN,
      WHATSAPP_API_URL: sim.url,
      // The simulator speaks plain http on 127.0.0.1, which production refuses unless told.
      ALLOW_LOCAL_GRAPH_SIMULATOR: 'true',
      // Production refuses to sign local media links without it.
      MEDIA_URL_SECRET: 'pm2-media-url-secret-58c1e0a7f3b94d26',
      MEDIA_PUBLIC_URL: 'https://router.example.test',
      LEASE_MS: '2000',
      SWEEP_INTERVAL_MS: '200',
      OUTBOX_POLL_MS: '50',
      LOG_LEVEL: 'warn',
      // The audit wants one reply per scripted message (see load.ts): reply limits off.
      REPLY_REPEAT_SECONDS: '0',
      REPLY_FLOOD_MESSAGES: '0',
    };
    await run(PM2, ['start', 'ecosystem.config.js', '--only', 'psi-router'], { cwd: ROOT, env });
  }, 120_000);

  afterAll(async () => {
    await run(PM2, ['kill'], { cwd: ROOT, env }).catch(() => undefined);
    await sim?.close();
    if (pm2Home) rmSync(pm2Home, { recursive: true, force: true });
  });

  it('when `pm2 start ecosystem.config.js` runs, then two cluster instances are online and ready', async () => {
    const { stdout } = await run(PM2, ['jlist'], { cwd: ROOT, env });
    const apps = (JSON.parse(stdout) as { name: string; pm2_env: { status: string; exec_mode: string } }[]).filter(
      (a) => a.name === 'psi-router',
    );
    expect(apps.map((a) => [a.pm2_env.status, a.pm2_env.exec_mode])).toEqual([
      ['online', 'cluster_mode'],
      ['online', 'cluster_mode'],
    ]);
    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).toBe(200);
  });

  it('when `pm2 reload` runs in the middle of load, then every acknowledged message is stored and answered exactly once', async () => {
    let reload: Promise<unknown> | null = null;
    let ackedSoFar = 0;
    let ackedWhenReloadDone = -1;
    const load = await customersWriting({
      urls: () => [`http://127.0.0.1:${port}`],
      customers: 40,
      perCustomer: 4,
      phonePrefix: '549118500',
      redeliver: true,
      // Keep customers writing through the whole reload and a little after it.
      keepGoing: () => ackedWhenReloadDone < 0 || ackedSoFar < ackedWhenReloadDone + 40,
      onAck: (n) => {
        ackedSoFar = n;
        if (n === 40 && !reload) {
          reload = run(PM2, ['reload', 'psi-router'], { cwd: ROOT, env }).then(() => {
            ackedWhenReloadDone = ackedSoFar;
          });
        }
      },
    });
    await reload;
    // The reload really happened while customers were still writing.
    expect(ackedWhenReloadDone).toBeGreaterThan(40);
    expect(load.acked.length).toBeGreaterThan(ackedWhenReloadDone);
    await expect
      .poll(
        async () =>
          (
            await withClient((c) =>
              c.query<{ n: number }>(
                `SELECT ((SELECT count(*) FROM router_eventos WHERE estado = 'pendiente') + (SELECT count(*) FROM router_outbox WHERE estado IN ('pendiente', 'enviando')))::int AS n`,
              ),
            )
          ).rows[0]!.n,
        { timeout: 30_000, interval: 100 },
      )
      .toBe(0);
    const result = await audit(load.acked, sim);
    expect(load.unacked).toEqual([]);
    expect(result).toMatchObject({
      acked: load.acked.length,
      lost: 0,
      storedTwice: 0,
      unanswered: 0,
      answeredTwice: 0,
      outOfOrderReplies: 0,
      overlappingProcessing: 0,
    });
    const { stdout } = await run(PM2, ['jlist'], { cwd: ROOT, env });
    const apps = (JSON.parse(stdout) as { name: string; pm2_env: { status: string; restart_time: number } }[]).filter(
      (a) => a.name === 'psi-router',
    );
    expect(apps.map((a) => [a.pm2_env.status, a.pm2_env.restart_time])).toEqual([
      ['online', 1],
      ['online', 1],
    ]);
  }, 120_000);
});
