import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface NodeProcess {
  child: ChildProcess;
  port: number;
  /** Peak resident set size so far (VmHWM), MiB. */
  peakRssMiB(): number;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * What a production start needs beyond the caller's settings when its third parties are local:
 * credentials production accepts (32+ characters), an inbox secret (areas post to the bench's
 * inbox), and the opt-in for plain http to the Graph simulator on 127.0.0.1.
 */
const PRODUCTION_LOCAL_ENV = {
  WHATSAPP_VERIFY_TOKEN: 'bench-verify-token-3e8a51c07d9b2f46',
  INBOX_WEBHOOK_SECRET: 'bench-inbox-secret-b61d0f4c9a2e7358',
  MEDIA_URL_SECRET: 'bench-media-url-secret-7a0c3e95d1f248b6',
  ALLOW_LOCAL_GRAPH_SIMULATOR: 'true',
};

export const LOG_DIR = path.join(ROOT, 'bench/results/logs');
let counter = 0;

/**
 * Starts a compiled entry point (dist/start/*.js) and waits for its readiness log line. Its JSON
 * logs go to a file (as PM2 does), not to a pipe into this busy process: a full pipe would block
 * the router's synchronous log writes and measure the benchmark instead of the router.
 */
export async function startNode(
  entry: 'api' | 'worker',
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<NodeProcess> {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `${entry}-${process.pid}-${++counter}.log`);
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, [...nodeArgs, `dist/start/${entry}.js`], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...PRODUCTION_LOCAL_ENV,
      ...env,
    },
    stdio: ['ignore', out, 'pipe'],
  });
  closeSync(out);
  live.add(child);
  const exited = new Promise<void>((r) => child.once('exit', () => (live.delete(child), r())));
  const ready = entry === 'api' ? 'psi-router listening' : 'psi-router worker consuming';
  const errors: string[] = [];
  child.stderr!.on('data', (d: Buffer) => errors.push(d.toString()));
  let exitedEarly: string | null = null;
  child.once('exit', (code) => (exitedEarly = `${entry} exited ${code}: ${errors.join('')}`));
  const deadline = Date.now() + 30_000;
  let port = -1;
  while (port < 0) {
    if (exitedEarly) throw new Error(exitedEarly);
    if (Date.now() > deadline) throw new Error(`${entry} not ready (see ${logFile})`);
    const line = readFileSync(logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes(ready));
    if (line) {
      const banner = JSON.parse(line) as { port?: number; metricsPort?: number };
      port = banner.port ?? banner.metricsPort ?? 0;
    } else {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    child,
    port,
    peakRssMiB() {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        return m ? Number(m[1]) / 1024 : 0;
      } catch {
        return 0;
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Reads one counter/gauge from a router's /metrics (sum over label sets). */
export async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
