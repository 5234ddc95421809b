import { configureLogger, logger } from '../logger.js';
import { describeStore } from '../store/open-db.js';
import { createRuntime } from './runtime.js';
import { configOrExit } from './config-or-exit.js';
import { bindSignals, createShutdown } from './shutdown.js';
import { serveMetrics } from './worker-metrics.js';
import { warnIfOldNode } from './node-version.js';
import type { AddressInfo } from 'node:net';

/**
 * `npm run worker` / PM2 `psi-router-worker`: queue mode's consumer. Takes jobs from Redis into the
 * journal and processes conversations (same processor as direct mode), sends the outbox. Run as many
 * as the volume needs; the Postgres lease keeps each conversation on one worker at a time.
 */
async function main(): Promise<void> {
  const config = configOrExit();
  const log = configureLogger(config.LOG_LEVEL).child({ role: 'worker' });
  if (!config.REDIS_URL) {
    log.fatal(
      { code: 'CONFIG_INVALID', problems: ['REDIS_URL: is required for a worker'] },
      'invalid configuration; refusing to start',
    );
    process.exit(78);
  }
  const runtime = await createRuntime(config, log, { role: 'worker' });
  runtime.startBackground();
  // Workers have no webhook, but Prometheus still wants to scrape them.
  const server =
    config.WORKER_METRICS_PORT !== undefined
      ? await serveMetrics(runtime, config.WORKER_METRICS_PORT, config.HOST)
      : null;
  // Signals before the banner (see api.ts): a supervisor may signal as soon as it reads it.
  bindSignals(createShutdown(runtime, server, log), log);
  log.info(
    {
      node: process.version,
      store: describeStore(config),
      queue: 'psi-inbound',
      metricsPort: server ? (server.address() as AddressInfo).port : null,
      concurrency: config.WORKER_CONCURRENCY,
      maxConcurrency: config.MAX_CONCURRENCY,
      owner: runtime.processor.owner,
    },
    'psi-router worker consuming',
  );
  warnIfOldNode(log);
  process.send?.('ready');
}

main().catch((err: unknown) => {
  logger.fatal(
    { err: { message: (err as Error)?.message, code: (err as { code?: string })?.code } },
    'worker startup failed',
  );
  process.exit(1);
});
