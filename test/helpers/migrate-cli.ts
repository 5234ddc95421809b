import { spawn } from 'node:child_process';
import path from 'node:path';
import { TEST_DATABASE_URL } from './test-config.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** `npm run migrate -- <flag>` as an operator runs it, against the test database. */
export function migrateCli(flag: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'src/start/migrate.ts', flag], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        DATABASE_URL: TEST_DATABASE_URL,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}
