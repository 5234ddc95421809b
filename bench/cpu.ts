import { execFileSync } from 'node:child_process';
import { cpuPerMessage } from './lib/cpu-phase.js';
import { ROOT } from './lib/processes.js';
import { SECRET, SIM_TOKEN } from './lib/ramp.js';

/**
 * `npm run bench:cpu`: only the CPU-per-message phase of `npm run bench` (closed loop of
 * BENCH_CUSTOMERS, default 100, for BENCH_SECONDS, default 20), for profiling rounds.
 * BENCH_PROFILE=<dir> runs the router with --cpu-prof into that directory.
 */
execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
const r = await cpuPerMessage(
  (databaseUrl, port) => ({
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    WHATSAPP_APP_SECRET: SECRET,
    WHATSAPP_ACCESS_TOKEN: SIM_TOKEN,
    MEDIA_STORAGE: 'off',
    DB_POOL_MAX: '16',
  }),
  Number(process.env.BENCH_CUSTOMERS ?? 100),
  Number(process.env.BENCH_SECONDS ?? 20),
  process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [],
);
console.log(JSON.stringify(r, null, 2));
process.exit(0);
