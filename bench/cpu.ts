import { execFileSync } from 'node:child_process';
import { cpuPerMessage } from './lib/cpu-phase.js';
import { ROOT } from './lib/processes.js';
import { routerEnv } from './lib/router-env.js';

/**
 * `npm run bench:cpu`: only the CPU-per-message phase of `npm run bench` (closed loop of
 * BENCH_CUSTOMERS, default 100, for BENCH_SECONDS, default 20), for profiling rounds.
 * BENCH_PROFILE=<dir> runs the router with --cpu-prof into that directory.
 */
execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
const r = await cpuPerMessage(
  (databaseUrl, port) => routerEnv(databaseUrl, port),
  Number(process.env.BENCH_CUSTOMERS ?? 100),
  Number(process.env.BENCH_SECONDS ?? 20),
  [
    ...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []),
    // e.g. --perf-basic-prof, for `perf record` beside the run (real CPU, not wall-clock samples)
    ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ],
);
console.log(JSON.stringify(r, null, 2));
process.exit(0);
