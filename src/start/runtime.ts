import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { DirectProcessor } from '../conversations/direct-processor.js';
import type { MessageHandler } from '../conversations/message-handler.js';
import { createRoutingHandler } from '../conversations/routing-handler.js';
import { GraphClient } from '../outbound/graph-client.js';
import { InboxClient } from '../outbound/inbox-client.js';
import { OutboxSender } from '../outbound/outbox-sender.js';
import { CatalogCache, settingsFromConfig } from '../routing/catalog-cache.js';
import { loadCatalogRows } from '../store/catalog-repository.js';
import { buildApp } from '../ingress/app.js';
import type { Db } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { openDb } from '../store/open-db.js';

export interface Runtime {
  config: Config;
  db: Db;
  processor: DirectProcessor;
  sender: OutboxSender;
  catalog: CatalogCache;
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
  const catalog = new CatalogCache(() => loadCatalogRows(db), settingsFromConfig(config), config.CATALOG_TTL_MS, log);
  const graph = config.WHATSAPP_ACCESS_TOKEN
    ? new GraphClient({ baseUrl: config.WHATSAPP_API_URL, version: config.WHATSAPP_API_VERSION, accessToken: config.WHATSAPP_ACCESS_TOKEN, timeoutMs: config.GRAPH_TIMEOUT_MS })
    : null;
  const inbox = new InboxClient({ secret: config.INBOX_WEBHOOK_SECRET, timeoutMs: config.INBOX_TIMEOUT_MS });
  // The processor and the sender refer to each other (revived statuses ↔ new outbound rows).
  let processorRef: DirectProcessor | null = null;
  const sender = new OutboxSender(
    db,
    graph,
    inbox,
    {
      concurrency: config.OUTBOX_CONCURRENCY,
      pollMs: config.OUTBOX_POLL_MS,
      maxAttempts: config.OUTBOX_MAX_ATTEMPTS,
      ratePerSecond: config.GRAPH_RATE_PER_SECOND,
      circuitThreshold: config.GRAPH_CIRCUIT_THRESHOLD,
      circuitOpenMs: config.GRAPH_CIRCUIT_OPEN_MS,
    },
    log,
    { onStatusesRevived: (ids) => processorRef?.enqueue(ids.map((id) => ({ id, kind: 'status', convKey: null }))) },
  );
  const handler = options.handler ?? createRoutingHandler({ catalog, log, onOutbound: () => sender.wake() });
  const processor = new DirectProcessor(
    db,
    handler,
    {
      maxConcurrency: config.MAX_CONCURRENCY,
      leaseMs: config.LEASE_MS,
      sweepIntervalMs: config.SWEEP_INTERVAL_MS,
      maxAttempts: config.PROCESS_MAX_ATTEMPTS,
    },
    log,
  );
  processorRef = processor;
  const app = buildApp({
    config,
    db,
    sink: processor,
    log,
    readinessChecks: [async () => (graph && sender.circuit.current() === 'open' ? ['graph_circuit_open'] : [])],
  });
  return { config, db, processor, sender, catalog, app, log };
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
