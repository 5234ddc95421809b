import { createServer, type RequestListener, type Server } from 'node:http';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { DirectProcessor } from '../conversations/direct-processor.js';
import { DeadLetterService } from '../conversations/dead-letters.js';
import { journalIngest, type WebhookIngest } from '../conversations/ingest.js';
import { JournalPruner } from '../conversations/journal-pruner.js';
import type { MessageHandler } from '../conversations/message-handler.js';
import { FlowClock } from '../conversations/flow-clock.js';
import { createRoutingHandler } from '../conversations/routing-handler.js';
import { ThresholdMonitor } from '../conversations/threshold-monitor.js';
import { buildApp } from '../ingress/app.js';
import { readinessReport, type ReadinessDeps } from '../ingress/readiness.js';
import { createMedia } from '../media/create-media.js';
import type { MediaDownloader } from '../media/media-downloader.js';
import { RouterMetrics } from '../observability/metrics.js';
import { processingObserver, recordAccepted, recordSend } from '../observability/observers.js';
import { registerPm2Actions } from '../observability/pm2-actions.js';
import { Pm2Channel } from '../observability/pm2-channel.js';
import { Pm2Probes } from '../observability/pm2-probes.js';
import { AdminSender } from '../outbound/admin-sender.js';
import { backlogCounts } from '../store/admin-repository.js';
import { GraphClient } from '../outbound/graph-client.js';
import { GraphVersionWatch } from '../outbound/graph-version-watch.js';
import { InboxClient } from '../outbound/inbox-client.js';
import { OutboxSender } from '../outbound/outbox-sender.js';
import { sandboxTransport } from '../outbound/sandbox-transport.js';
import { CatalogCache, settingsFromConfig } from '../routing/catalog-cache.js';
import { loadCatalogRows } from '../store/catalog-repository.js';
import type { Db } from '../store/db.js';
import { assertNoBlockers, migrate } from '../store/migrate.js';
import { readSchemaProfile } from '../store/schema-profile.js';
import { openDb } from '../store/open-db.js';
import { assertInboxSecret } from './inbox-secret-check.js';
import { setLogHashKey } from '../log-safety.js';
import { createEvolutionTransport, evolutionReadiness } from './evolution-wiring.js';
import { saveEvolutionMedia } from '../store/evolution-media-repository.js';
import { evolutionConnections } from '../store/evolution-line-repository.js';

/**
 * api    — HTTP. Direct mode: ingest into the journal and process here. Queue mode: enqueue only.
 * worker — queue mode's consumer: journal the jobs and process them (no HTTP).
 */
export type Role = 'api' | 'worker';

export interface Runtime {
  config: Config;
  role: Role;
  db: Db;
  processor: DirectProcessor;
  sender: OutboxSender;
  /** Inbound media downloader; null when media is off (MEDIA_STORAGE=off or no access token). */
  media: MediaDownloader | null;
  /** What media does in this process, for the startup banner. */
  mediaDescription: string;
  catalog: CatalogCache;
  monitor: ThresholdMonitor;
  metrics: RouterMetrics;
  ingest: WebhookIngest;
  /** Deletes finished journal rows past JOURNAL_RETENTION_DAYS (started with processing). */
  pruner: JournalPruner;
  deadLetters: DeadLetterService;
  /** The HTTP request listener: webhook fast path in front of the Express app (ingress/app.ts). */
  app: RequestListener;
  log: Logger;
  /** WHATSAPP_API_VERSION against Meta's expiry dates: logged by startBackground, read by /ready and /metrics. */
  graphVersion: GraphVersionWatch;
  /** `pm2 monit` metrics of this process (reported only under PM2). */
  pm2Probes: Pm2Probes;
  /** Starts background work this role does (processing, sending, consuming the queue, the version watch). */
  startBackground(): void;
  /** Closes what startBackground and the constructors opened (queue, workers, Redis), not the db. */
  closeBackground(): Promise<void>;
}

/**
 * Wires the router from a parsed config: store (migrated), processor, sender, ingest transport, HTTP
 * app. Entry points and integration tests both start here, so tests exercise what production runs.
 */
export async function createRuntime(
  config: Config,
  log: Logger,
  options: { db?: Db; handler?: MessageHandler; role?: Role; now?: () => Date } = {},
): Promise<Runtime> {
  const role = options.role ?? 'api';
  setLogHashKey(config.WHATSAPP_APP_SECRET[0]);
  const db = options.db ?? (await openDb(config, log));
  assertNoBlockers(await migrate(db, log.child({ module: 'migrate' }), { seed: config.SEED_DEFAULT_MENU }));
  await assertInboxSecret(config, db).catch(async (err: unknown) => {
    if (!options.db) await db.close().catch(() => undefined);
    throw err;
  });
  const profile = await readSchemaProfile(db);
  log.info(
    { unreadTrigger: profile.unreadTrigger, derivationTicket: profile.derivationTicket },
    profile.unreadByTrigger
      ? 'the database counts unread messages itself (trigger); the router will not'
      : 'the router counts unread messages (no trigger found)',
  );
  const catalog = new CatalogCache(() => loadCatalogRows(db), settingsFromConfig(config), config.CATALOG_TTL_MS, log);
  const monitor = new ThresholdMonitor(log);
  // Workers call Graph too (sends, media), so both roles watch the version.
  const graphVersion = new GraphVersionWatch(
    config.WHATSAPP_API_VERSION,
    log.child({ module: 'graph-version' }),
    options.now ? { now: options.now } : {},
  );
  // Filled in below; the metrics read them lazily at scrape time.
  let queueCounts: () => Promise<Record<string, number> | null> = async () => null;
  let circuitState: () => ReturnType<OutboxSender['circuit']['current']> | null = () => null;
  let readiness: ReadinessDeps = { config, db };
  const metrics = new RouterMetrics({
    monitor,
    circuit: () => circuitState(),
    backlog: () => backlogCounts(db),
    queue: () => queueCounts(),
    statements: () => db.statementCount(),
    graphVersion: () => graphVersion.current(),
    evolutionLines: () => evolutionConnections(db),
    ready: async () => (await readinessReport(readiness)).status === 'ok',
    queueModeEnabled: config.QUEUE_MODE === 'bullmq',
  });
  // PM2's metrics and actions channel; silent unless PM2 started this process.
  const pm2 = new Pm2Channel();
  const pm2Probes = new Pm2Probes(pm2, {
    monitor,
    circuit: () => circuitState(),
    backlog: () => backlogCounts(db),
  });
  const graph = config.WHATSAPP_ACCESS_TOKEN
    ? new GraphClient({
        baseUrl: config.WHATSAPP_API_URL,
        version: config.WHATSAPP_API_VERSION,
        accessToken: config.WHATSAPP_ACCESS_TOKEN,
        timeoutMs: config.GRAPH_TIMEOUT_MS,
      })
    : null;
  const inbox = new InboxClient({
    secret: config.INBOX_WEBHOOK_SECRET,
    timeoutMs: config.INBOX_TIMEOUT_MS,
    requireSecret: config.NODE_ENV === 'production',
  });
  // The processor and the sender refer to each other (revived statuses ↔ new outbound rows).
  let processorRef: DirectProcessor | null = null;
  const evolution = createEvolutionTransport(config, db, log);
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
      claimLeaseMs: config.OUTBOX_CLAIM_MS,
    },
    log,
    {
      // Sandbox customers' rows are captured, never sent (outbound/sandbox-transport.ts).
      divert: sandboxTransport(db, log),
      onStatusesRevived: (ids) => processorRef?.enqueue(ids.map((id) => ({ id, kind: 'status', convKey: null }))),
      onResult: (channel, result) => {
        recordSend(metrics, channel, result);
        if (channel === 'whatsapp' && (result.outcome === 'sent' || result.outcome === 'dry_run')) {
          pm2Probes.messagesOut.add();
        }
      },
    },
    evolution,
  );
  circuitState = () => (graph ? sender.circuit.current() : null);
  const flowClock = new FlowClock(config.ROUTER_CLOCK_OFFSET_MS);
  const handler =
    options.handler ??
    createRoutingHandler({
      catalog,
      log,
      onOutbound: () => sender.wake(),
      onDerived: (area) => metrics.derivations.inc({ area }),
      db,
      clock: flowClock,
    });
  const media = await createMedia(config, db, log);
  const processor = new DirectProcessor(
    db,
    handler,
    {
      maxConcurrency: config.MAX_CONCURRENCY,
      contextBatchMax: config.CONTEXT_BATCH_MAX,
      leaseMs: config.LEASE_MS,
      sweepIntervalMs: config.SWEEP_INTERVAL_MS,
      maxAttempts: config.PROCESS_MAX_ATTEMPTS,
      orderWaitMs: config.QUEUE_ORDER_WAIT_MS,
      mediaJobs: media.downloader !== null,
      context: {
        countUnread: !profile.unreadByTrigger,
        // media_url is the router's own /media link from the first instant (media-routes.ts), so the
        // chat renders the file as soon as the row is inserted; the link waits for the download.
        mediaBaseUrl: media.downloader
          ? (config.MEDIA_PUBLIC_URL ?? `http://127.0.0.1:${config.PORT}`).replace(/\/+$/, '')
          : null,
        defaultLine: config.DEFAULT_LINE,
      },
      onMediaJob: () => media.downloader?.wake(),
      profile,
    },
    log,
    // A worker takes messages in from the queue; the api counts them at its webhook (below).
    processingObserver(monitor, metrics, role === 'worker' ? () => pm2Probes.messagesIn.add() : undefined),
  );
  processorRef = processor;
  const pruner = new JournalPruner(db, { retentionDays: config.JOURNAL_RETENTION_DAYS }, log);

  const queueMode = config.QUEUE_MODE === 'bullmq';
  const redisUrl = config.REDIS_URL;
  const redisParts = redisUrl ? await import('./queue-parts.js') : null;
  const producer: Redis | null =
    role === 'api' && queueMode && redisUrl && redisParts ? redisParts.producerConnection(redisUrl) : null;
  producer?.on('error', (err: Error) =>
    log.debug({ err: { message: err.message } }, 'redis producer connection error'),
  );
  if (producer) await waitForRedis(producer, 3_000, log);
  const queue =
    producer && redisParts
      ? redisParts.queueIngest(producer, {
          attempts: config.QUEUE_JOB_ATTEMPTS,
          backoffMs: config.QUEUE_JOB_BACKOFF_MS,
        })
      : null;
  if (queue) queueCounts = () => queue.queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
  const ingest: WebhookIngest = queue ?? journalIngest(db, processor);

  // Who processes: the api in direct mode, workers in queue mode. A direct-mode api with REDIS_URL
  // also consumes the queue, so that rolling back to QUEUE_MODE=off drains what was left in Redis.
  const processes = role === 'worker' || !queueMode;
  const consumesQueue = Boolean(redisUrl) && (role === 'worker' || !queueMode);
  let consumerConnection: Redis | null = null;
  let inboundWorker: Worker | null = null;
  // Dead letters need Redis only to see failed jobs; a lazy connection costs nothing until asked.
  const adminRedis: Redis | null = redisUrl && redisParts ? redisParts.adminConnection(redisUrl) : null;
  adminRedis?.on('error', (err: Error) => log.debug({ err: { message: err.message } }, 'redis admin connection error'));
  const deadLetters = new DeadLetterService(db, adminRedis, (rows) => processor.enqueue(rows));

  const readinessChecks = [
    async () => (graph && processes && sender.circuit.current() === 'open' ? ['graph_circuit_open'] : []),
    async () => (producer && producer.status !== 'ready' ? ['redis_unreachable'] : []),
    ...evolutionReadiness(db, evolution),
    // A database outage is reported by the database check itself; this one only speaks of the backlog.
    async () =>
      ((await backlogCounts(db).catch(() => null))?.oldestOutboxS ?? 0) > config.READY_OUTBOX_BACKLOG_S
        ? ['outbox_backlog']
        : [],
  ];
  readiness = { config, db, checks: readinessChecks, graphVersion: () => graphVersion.current() };
  registerPm2Actions(pm2, {
    config,
    db,
    deadLetters,
    queueCounts: () => queueCounts(),
    catalog,
    monitor,
    readiness,
    log,
  });

  const adminSender = new AdminSender(db, config.ADMIN_SEND_RATE_PER_SECOND, () => sender.wake());
  const app = buildApp({
    config,
    db,
    ingest,
    log,
    metrics,
    onAccepted: (events, ackMs, duplicates) => {
      recordAccepted(metrics, monitor, events, ackMs, duplicates);
      pm2Probes.messagesIn.add(events.filter((e) => e.kind === 'message').length);
    },
    onEvolutionMedia: (found) => saveEvolutionMedia(db, found),
    readinessChecks,
    graphVersion: () => graphVersion.current(),
    media: media.local,
    admin: {
      config,
      db,
      processor,
      monitor,
      deadLetters,
      sender: adminSender,
      queueCounts: () => queueCounts(),
      catalog,
      clock: flowClock,
      log,
    },
  });

  return {
    config,
    role,
    db,
    processor,
    sender,
    media: media.downloader,
    mediaDescription: media.describe,
    catalog,
    monitor,
    metrics,
    ingest,
    pruner,
    deadLetters,
    app,
    log,
    graphVersion,
    pm2Probes,
    startBackground() {
      graphVersion.start();
      pm2Probes.start();
      if (processes) {
        processor.start();
        sender.start();
        media.downloader?.start();
        pruner.start();
      }
      if (consumesQueue && redisUrl && redisParts && !inboundWorker) {
        consumerConnection = redisParts.workerConnection(redisUrl);
        consumerConnection.on('error', (err: Error) =>
          log.debug({ err: { message: err.message } }, 'redis consumer connection error'),
        );
        inboundWorker = redisParts.startInboundWorker({
          connection: consumerConnection,
          db,
          processor,
          concurrency: config.WORKER_CONCURRENCY,
          lockMs: config.QUEUE_LOCK_MS,
          outageBackoffMs: config.QUEUE_JOB_BACKOFF_MS,
          log,
        });
      }
    },
    async closeBackground() {
      graphVersion.stop();
      pm2Probes.stop();
      await pruner.stop();
      await inboundWorker?.close().catch(() => undefined);
      await queue?.close().catch(() => undefined);
      await deadLetters.close().catch(() => undefined);
      adminRedis?.disconnect();
      consumerConnection?.disconnect();
      producer?.disconnect();
    },
  };
}

/** Listens and resolves once the port is bound (PORT=0 picks a free one). */
export function listen(app: RequestListener, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(app);
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
    // Meta's webhook calls are short; keep idle sockets from Nginx a bit longer than its keepalive.
    server.keepAliveTimeout = 65_000;
  });
}

/** Gives Redis a moment to connect before the api takes traffic; if it does not, /ready says so. */
async function waitForRedis(connection: Redis, timeoutMs: number, log: Logger): Promise<void> {
  if (connection.status === 'ready') return;
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    connection.once('ready', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!ready) log.error('Redis is not reachable at REDIS_URL: webhooks get 503 until it is (Meta retries)');
}
