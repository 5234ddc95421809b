import { freshBenchDatabase } from './lib/bench-db.js';
import { startNode } from './lib/processes.js';
import { SECRET, SIM_TOKEN, runStep, startOutside } from './lib/ramp.js';
import { freePort } from '../test/helpers/start-router.js';

/** Dev aid: one ramp step against a router started with --cpu-prof (profile in /tmp/psi-prof). */
const rate = Number(process.env.RATE ?? 150);
const url = await freshBenchDatabase();
const port = await freePort();
const outside = await startOutside(port);
const proc = await startNode(
  'api',
  {
    PORT: String(port),
    DATABASE_URL: url,
    WHATSAPP_APP_SECRET: SECRET,
    WHATSAPP_ACCESS_TOKEN: SIM_TOKEN,
    WHATSAPP_API_URL: outside.sim.url,
    MEDIA_STORAGE: 'off',
    LOG_LEVEL: process.env.PROF_LOG_LEVEL ?? 'info',
    MAX_CONCURRENCY: process.env.MC ?? '16',
    DB_POOL_MAX: process.env.POOL ?? '16',
  },
  ['--cpu-prof', '--cpu-prof-dir=/tmp/psi-prof'],
);
const res = await runStep({
  rate,
  seconds: 10,
  ackPort: port,
  outside,
  metered: [{ port, proc }],
  phonePrefix: '5491177',
  limits: { ackP99: 100, e2eP99: 1000, drainMs: 5000 },
});
console.log(res);
await proc.stop();
await outside.close();
process.exit(0);
