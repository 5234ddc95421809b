import { configureLogger, logger } from '../logger.js';
import { describeStore } from '../store/open-db.js';
import { createRuntime, listen } from './runtime.js';
import { configOrExit } from './config-or-exit.js';
import { bindSignals, createShutdown } from './shutdown.js';
import { warnIfOldNode } from './node-version.js';

/** `npm start` / PM2 entry: config → store → HTTP → ready. */
async function main(): Promise<void> {
  const config = configOrExit();
  const log = configureLogger(config.LOG_LEVEL);
  const runtime = await createRuntime(config, log);
  const server = await listen(runtime.app, config.PORT, config.HOST);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  runtime.startBackground();
  // Signals first, banner second: whoever waits for the banner may signal at once, and until a
  // handler is installed the OS default for SIGINT/SIGTERM is to kill the process mid-work.
  bindSignals(createShutdown(runtime, server, log), log);
  log.info(
    {
      port,
      node: process.version,
      mode: config.QUEUE_MODE === 'off' ? 'direct' : 'queue',
      queue:
        config.QUEUE_MODE === 'bullmq'
          ? 'BullMQ on REDIS_URL (workers process)'
          : config.REDIS_URL
            ? 'draining leftovers from REDIS_URL'
            : 'none',
      store: describeStore(config),
      sender: config.WHATSAPP_ACCESS_TOKEN ? config.WHATSAPP_API_URL : 'dry-run (no WHATSAPP_ACCESS_TOKEN)',
      media: runtime.mediaDescription,
      signature:
        config.WHATSAPP_APP_SECRET.length > 0 ? `${config.WHATSAPP_APP_SECRET.length} app secret(s)` : 'NOT VERIFIED',
      maxConcurrency: config.MAX_CONCURRENCY,
    },
    'psi-router listening',
  );
  warnIfOldNode(log);
  if (!config.WHATSAPP_ACCESS_TOKEN) {
    log.warn('*** DRY RUN *** WHATSAPP_ACCESS_TOKEN is not set: replies are logged and stored, NOT sent to WhatsApp');
  }
  if (config.WHATSAPP_APP_SECRET.length === 0) {
    log.warn('WHATSAPP_APP_SECRET is not set: webhook signatures are NOT verified (refused in production)');
  }
  // PM2 wait_ready: only now is the process able to accept webhooks.
  process.send?.('ready');
}

main().catch((err: unknown) => {
  logger.fatal({ err: { message: (err as Error)?.message, code: (err as { code?: string })?.code } }, 'startup failed');
  process.exit(1);
});
