import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { DirectProcessor } from '../conversations/direct-processor.js';
import { storeOnlyHandler, type MessageHandler } from '../conversations/message-handler.js';
import { buildApp } from '../ingress/app.js';
import type { Db } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { openDb } from '../store/open-db.js';

export interface Runtime {
  config: Config;
  db: Db;
  processor: DirectProcessor;
  app: Express;
  log: Logger;
}

/**
 * Wires the router from a parsed config: store (migrated), processor, HTTP app. Entry points and
 * integration tests both start here, so tests exercise exactly what production runs.
 */
export async function createRuntime(config: Config, log: Logger, options: { db?: Db; handler?: MessageHandler } = {}): Promise<Runtime> {
  const db = options.db ?? (await openDb(config, log));
  await migrate(db, log.child({ module: 'migrate' }), { seed: config.SEED_DEFAULT_MENU });
  const processor = new DirectProcessor(
    db,
    options.handler ?? storeOnlyHandler,
    {
      maxConcurrency: config.MAX_CONCURRENCY,
      leaseMs: config.LEASE_MS,
      sweepIntervalMs: config.SWEEP_INTERVAL_MS,
      maxAttempts: config.PROCESS_MAX_ATTEMPTS,
    },
    log,
  );
  const app = buildApp({ config, db, sink: processor, log });
  return { config, db, processor, app, log };
}

/** Listens and resolves once the port is bound (PORT=0 picks a free one). */
export function listen(app: Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => resolve(server));
    server.once('error', reject);
    // Meta's webhook calls are short; keep idle sockets from Nginx a bit longer than its keepalive.
    server.keepAliveTimeout = 65_000;
  });
}
