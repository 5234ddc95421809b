import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startGraphSimulator, type GraphSimulator } from '../../src/simulator/graph-simulator.js';
import { migrateTestDatabase, resetDatabase } from './reset-db.js';
import { freePort } from './start-router.js';
import { TEST_APP_SECRET, TEST_DATABASE_URL } from './test-config.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PM2_BIN = path.join(ROOT, 'node_modules/.bin/pm2');
const run = promisify(execFile);

export interface Pm2Rig {
  /** This rig's own PM2_HOME: its daemon is not any other test's (or person's). */
  home: string;
  env: NodeJS.ProcessEnv;
  /** Runs the pm2 CLI against this rig's daemon, from the repository root. */
  pm2(...args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Where the router listens. */
  port: number;
  /** The Graph API the router sends to. */
  sim: GraphSimulator;
  /** Kills this rig's daemon (and its apps), stops the simulator, removes PM2_HOME. */
  close(): Promise<void>;
}

/**
 * A clean migrated test database, a fresh build, a Graph simulator, and `pm2 start ecosystem.config.js
 * --only psi-router` under a PM2_HOME of its own.
 */
export async function startPm2Router(env: NodeJS.ProcessEnv): Promise<Pm2Rig> {
  await resetDatabase();
  await migrateTestDatabase();
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const simToken = 'pm2-sim-token-4c8e1b0f7a2d9365-0b7e';
  const sim = await startGraphSimulator({ accessToken: simToken });
  const port = await freePort();
  const home = mkdtempSync(path.join(tmpdir(), 'psi-pm2-'));
  const fullEnv = pm2Env({ home, port, simUrl: sim.url, simToken, env });
  const pm2 = (...a: string[]) => run(PM2_BIN, a, { cwd: ROOT, env: fullEnv });
  const rig: Pm2Rig = {
    home,
    env: fullEnv,
    pm2,
    port,
    sim,
    async close() {
      await pm2('kill').catch(() => undefined);
      await sim.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
  await pm2('start', 'ecosystem.config.js', '--only', 'psi-router').catch(async (err: unknown) => {
    await rig.close();
    throw err;
  });
  return rig;
}

/**
 * Environment for the shipped ecosystem.config.js under the real PM2 in production mode, against the
 * test database and a Graph API simulator, with a PM2_HOME of its own under the temp directory.
 */
function pm2Env(args: {
  home: string;
  port: number;
  simUrl: string;
  simToken: string;
  env: NodeJS.ProcessEnv;
}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PM2_HOME: args.home,
    PORT: String(args.port),
    HOST: '127.0.0.1',
    NODE_ENV: 'production',
    DATABASE_URL: TEST_DATABASE_URL,
    // Production refuses credentials under 32 characters (src/secret-rules.ts).
    WHATSAPP_APP_SECRET: TEST_APP_SECRET,
    WHATSAPP_VERIFY_TOKEN: 'pm2-verify-token-0d6b3f9e2a71c485',
    WHATSAPP_ACCESS_TOKEN: args.simToken,
    WHATSAPP_API_URL: args.simUrl,
    // The simulator speaks plain http on 127.0.0.1, which production refuses unless told.
    ALLOW_LOCAL_GRAPH_SIMULATOR: 'true',
    // Production refuses to sign local media links without it.
    MEDIA_URL_SECRET: 'pm2-media-url-secret-58c1e0a7f3b94d26',
    MEDIA_PUBLIC_URL: 'https://router.example.test',
    SWEEP_INTERVAL_MS: '200',
    OUTBOX_POLL_MS: '50',
    // Harnesses that audit one reply per scripted message run with the reply limits off (load.ts).
    REPLY_REPEAT_SECONDS: '0',
    REPLY_FLOOD_MESSAGES: '0',
    ...args.env,
  };
}
