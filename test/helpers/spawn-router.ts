import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RouterProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** SIGKILL: no handler runs, nothing is flushed — a power cut for the process. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the real entry point (`src/start/api.ts`) as a separate OS process, exactly as PM2 would,
 * and resolves once it logged that it listens.
 */
export async function spawnRouter(env: Record<string, string>): Promise<RouterProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/start/api.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stderr: string[] = [];
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'psi-router listening' && entry.port) resolve(entry.port);
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
