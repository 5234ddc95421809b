import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every child still running, killed if the test process exits first (a failed or timed-out test). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface RouterProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** SIGKILL: no handler runs, nothing is flushed — a power cut for the process. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  exited: Promise<number | null>;
  /** Every JSON log line the process printed so far. */
  logs: Record<string, unknown>[];
}

/**
 * Runs the real entry point (`src/start/api.ts`) as a separate OS process, exactly as PM2 would,
 * and resolves once it logged that it listens.
 */
export function spawnRouter(env: Record<string, string>): Promise<RouterProcess> {
  return spawnEntry('src/start/api.ts', 'psi-router listening', env);
}

/** Runs `src/start/worker.ts` (queue mode's consumer) as its own process. */
export function spawnWorker(env: Record<string, string>): Promise<RouterProcess> {
  return spawnEntry('src/start/worker.ts', 'psi-router worker consuming', { QUEUE_MODE: 'bullmq', ...env });
}

async function spawnEntry(entry: string, readyMsg: string, env: Record<string, string>): Promise<RouterProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ENV: 'test',
      MEDIA_URL_SECRET: 'test-media-url-secret',
      // The load these processes get (load.ts, bench/faults.ts) is scripted customers repeating plain
      // words faster than people, and its audit wants one reply per message: the reply limits
      // (tested in reply-limits.test.ts) would rightly stay silent, so they are off here.
      REPLY_REPEAT_SECONDS: '0',
      REPLY_FLOOD_MESSAGES: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  live.add(child);
  child.once('exit', () => live.delete(child));
  const port = await new Promise<number>((resolve, reject) => {
    // A process that never says it is ready must not outlive the test that started it.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not log "${readyMsg}" within 30 s: ${stderr.join('')}`));
    }, 30_000);
    child.once('exit', () => clearTimeout(timer));
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const logLine = JSON.parse(line) as { msg?: string; port?: number };
        logs.push(logLine);
        if (logLine.msg === readyMsg) {
          clearTimeout(timer);
          resolve(logLine.port ?? 0);
        }
      } catch {
        // not a JSON log line
      }
    });
    child.once('exit', (code) => reject(new Error(`router exited with ${code} before listening: ${stderr.join('')}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    child,
    exited,
    logs,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
