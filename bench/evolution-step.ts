import { freshBenchDatabase } from './lib/bench-db.js';
import { startNode } from './lib/processes.js';
import { BENCH_EVOLUTION_KEY } from './lib/evolution-load.js';
import { SECRET, SIM_TOKEN, runStep, startOutside } from './lib/ramp.js';
import { freePort } from '../test/helpers/start-router.js';

/**
 * Dev aid: one ramp step of mixed Cloud API and Evolution traffic (every BENCH_EVOLUTION_EVERY-th
 * customer on an Evolution line) against a compiled router (`npm run build` first), with its audit:
 * Evolution messages lost or doubled, conversations out of order. RATE and SECONDS set the step.
 */
const rate = Number(process.env.RATE ?? 50);
const seconds = Number(process.env.SECONDS ?? 5);
const url = await freshBenchDatabase();
const port = await freePort();
const outside = await startOutside(port);
const proc = await startNode('api', {
  PORT: String(port),
  DATABASE_URL: url,
  WHATSAPP_APP_SECRET: SECRET,
  WHATSAPP_ACCESS_TOKEN: SIM_TOKEN,
  WHATSAPP_API_URL: outside.sim.url,
  EVOLUTION_API_URL: outside.evolution.url,
  EVOLUTION_API_KEY: BENCH_EVOLUTION_KEY,
  EVOLUTION_SEND_RATE_PER_SECOND: '50',
  MEDIA_STORAGE: 'off',
});
try {
  const res = await runStep({
    rate,
    seconds,
    ackPort: port,
    outside,
    metered: [{ port, proc }],
    phonePrefix: '5491178',
    limits: { ackP99: 100, e2eP99: 1000, drainMs: 5000 },
  });
  console.log(JSON.stringify({ ...res, evolutionSends: outside.evolution.sent.length }, null, 1));
} finally {
  await proc.stop();
  await outside.close();
}
process.exit(0);
