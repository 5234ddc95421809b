import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Runtime } from './runtime.js';

/** How long in-flight work may take to finish; PM2's kill_timeout must be above this. */
export const DRAIN_TIMEOUT_MS = 8_000;
/** How long open HTTP requests may take to finish once shutdown began. */
const HTTP_CLOSE_GRACE_MS = 2_000;
/**
 * How long in-flight media downloads may take to finish; the rest are aborted and handed back to
 * the queue (a 100 MB download must not hold a reload). Runs alongside the processing drain.
 */
const MEDIA_STOP_GRACE_MS = 3_000;

/**
 * Phased, idempotent shutdown: stop accepting HTTP (Meta retries what it could not deliver) →
 * let in-flight processing finish (bounded) → hand leases back → close the store → flush logs.
 * Anything acknowledged but unprocessed stays in the journal for the next start.
 */
export function createShutdown(runtime: Runtime, server: Server | null, log: Logger) {
  let running: Promise<void> | null = null;
  return (reason: string): Promise<void> => {
    if (running) return running;
    running = (async () => {
      log.info({ reason }, 'shutting down');
      if (server) {
        // Stop accepting; idle keep-alive sockets go now, busy ones after their request (Node marks
        // the response Connection: close), stragglers after HTTP_CLOSE_GRACE_MS. Meta redelivers
        // anything that did not get its 200.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const grace = setTimeout(() => server.closeAllConnections(), HTTP_CLOSE_GRACE_MS);
        await closed;
        clearTimeout(grace);
      }
      try {
        // Stop consuming the queue first: unacknowledged jobs go back to Redis for other workers.
        await runtime.closeBackground();
      } catch (err) {
        log.error({ err: { message: (err as Error).message } }, 'closing the queue failed');
      }
      // Media downloads wind down while processing drains; jobs committed meanwhile wait in the table.
      const mediaStopped = runtime.media?.stop(MEDIA_STOP_GRACE_MS).catch((err: unknown) => {
        log.error({ err: { message: (err as Error).message } }, 'media downloader stop failed');
      });
      try {
        const { drained } = await runtime.processor.stop(DRAIN_TIMEOUT_MS);
        log.info({ drained }, drained ? 'in-flight work finished' : 'drain timed out; the journal keeps the rest');
      } catch (err) {
        log.error({ err: { message: (err as Error).message } }, 'processor stop failed');
      }
      try {
        await runtime.sender.stop();
      } catch (err) {
        log.error({ err: { message: (err as Error).message } }, 'outbox sender stop failed');
      }
      await mediaStopped;
      try {
        await runtime.db.close();
      } catch (err) {
        log.error({ err: { message: (err as Error).message } }, 'closing the store failed');
      }
      log.info('shutdown complete');
      log.flush?.();
    })();
    return running;
  };
}

/** SIGINT (PM2) and SIGTERM start the shutdown; a second signal exits at once. */
export function bindSignals(shutdown: (reason: string) => Promise<void>, log: Logger): void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    void shutdown(signal).then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
