import type { BacklogCounts } from '../store/admin-repository.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ThresholdMonitor } from '../conversations/threshold-monitor.js';
import type { CircuitState } from '../outbound/circuit-breaker.js';
import type { GraphVersionStatus } from '../outbound/graph-version-status.js';

export interface MetricsSources {
  monitor: ThresholdMonitor;
  circuit: () => CircuitState | null;
  /** Outbox and journal backlog, read from the database at scrape time. */
  backlog: () => Promise<BacklogCounts>;
  /** What /ready would answer now (true: ok). */
  ready: () => Promise<boolean>;
  /** QUEUE_MODE=bullmq. */
  queueModeEnabled: boolean;
  /** Queue-mode job counts (null when there is no queue). */
  queue: () => Promise<Record<string, number> | null>;
  /** Database round trips this process issued since start. */
  statements: () => number;
  /** WHATSAPP_API_VERSION against Meta's expiry dates. */
  graphVersion: () => GraphVersionStatus;
  /** Evolution lines and their instances' last connection.update state (null: none seen yet). */
  evolutionLines?: () => Promise<{ line: string; state: string | null }[]>;
}

const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * Prometheus metrics (`GET /metrics`). Counters and histograms are fed by the webhook, the processor
 * and the sender as things happen; backlog, queue depth, circuit and threshold gauges are read at
 * scrape time so they are always current. Names follow Prometheus conventions (`_total`, `_seconds`).
 */
export class RouterMetrics {
  readonly registry = new Registry();

  readonly webhookRequests = new Counter({
    name: 'psi_router_webhook_requests_total',
    help: 'Webhook requests by outcome (accepted, rejected_signature, bad_payload, too_large, unavailable, error)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  /** Of those, the ones served without Express (webhook-fast-path.ts); the rest took the Express route. */
  readonly webhookFastPath = new Counter({
    name: 'psi_router_webhook_fast_path_total',
    help: 'Webhook POSTs served by the fast path (plain node:http, no Express); the others went through Express',
    registers: [this.registry],
  });
  readonly ackLatency = new Histogram({
    name: 'psi_router_webhook_ack_seconds',
    help: 'Time from request to 200 for accepted webhook batches',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: 'psi_router_events_total',
    help: 'Webhook events accepted, by kind and message/status type',
    labelNames: ['kind', 'type'] as const,
    registers: [this.registry],
  });
  readonly dedupHits = new Counter({
    name: 'psi_router_dedup_hits_total',
    help: 'Events already known (Meta redeliveries and in-batch duplicates)',
    registers: [this.registry],
  });
  readonly processing = new Histogram({
    name: 'psi_router_processing_seconds',
    help: 'Processing time of one message (context query to commit), by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly pickupWait = new Histogram({
    name: 'psi_router_pickup_wait_seconds',
    help: 'Time from the 200 to the start of processing (queueing and waiting for the conversation lock)',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly leaseConflicts = new Counter({
    name: 'psi_router_lease_conflicts_total',
    help: 'Times a conversation was found locked by another worker',
    registers: [this.registry],
  });
  readonly timeouts = new Counter({
    name: 'psi_router_db_timeouts_total',
    help: 'Statements that hit the database statement timeout',
    registers: [this.registry],
  });
  readonly outbound = new Counter({
    name: 'psi_router_outbound_total',
    help: 'Outbound sends by channel (whatsapp, inbox), result (sent, retry, failed, dry_run) and Meta error code',
    labelNames: ['channel', 'result', 'code'] as const,
    registers: [this.registry],
  });
  readonly derivations = new Counter({
    name: 'psi_router_derivations_total',
    help: 'Conversations handed to a human area',
    labelNames: ['area'] as const,
    registers: [this.registry],
  });

  constructor(sources: MetricsSources) {
    collectDefaultMetrics({ register: this.registry, prefix: 'psi_router_' });
    const registers = [this.registry];
    new Gauge({
      name: 'psi_router_graph_circuit_state',
      help: 'Graph API circuit breaker: 0 closed, 1 half-open, 2 open',
      registers,
      collect() {
        const state = sources.circuit();
        this.set(state === null ? 0 : CIRCUIT_VALUE[state]);
      },
    });
    new Gauge({
      name: 'psi_router_graph_version_days_left',
      help: "Days until Meta's published expiry of the configured Graph API version (0 or less: expired); no sample while Meta has set no date or the version is not in the router's table",
      labelNames: ['version'] as const,
      registers,
      collect() {
        const status = sources.graphVersion();
        this.reset();
        if (status.daysLeft !== null) this.set({ version: status.version }, status.daysLeft);
      },
    });
    const backlog = new Gauge({
      name: 'psi_router_outbox_depth',
      help: 'Outbox rows waiting to be sent, by channel',
      labelNames: ['channel'] as const,
      registers,
    });
    const journal = new Gauge({
      name: 'psi_router_journal_pending',
      help: 'Acknowledged events not processed yet',
      registers,
    });
    const dead = new Gauge({
      name: 'psi_router_dead_letters',
      help: 'Events dead-lettered (estado muerto)',
      registers,
    });
    const media = new Gauge({
      name: 'psi_router_media_backlog',
      help: 'Inbound media downloads not finished yet (waiting or in progress)',
      registers,
    });
    const oldest = new Gauge({
      name: 'psi_router_outbox_oldest_seconds',
      help: 'Age of the oldest outbox row still waiting to be sent (0 when none)',
      registers,
    });
    // One database read per scrape feeds the backlog gauges.
    new Gauge({
      name: 'psi_router_scrape_backlog_ok',
      help: '1 when the backlog could be read from the database at this scrape',
      registers,
      async collect() {
        try {
          const b = await sources.backlog();
          backlog.set({ channel: 'whatsapp' }, b.whatsapp);
          backlog.set({ channel: 'inbox' }, b.inbox);
          journal.set(b.journalPending);
          dead.set(b.deadLetters);
          media.set(b.mediaBacklog);
          oldest.set(b.oldestOutboxS);
          this.set(1);
        } catch {
          this.set(0);
        }
      },
    });
    new Gauge({
      name: 'psi_router_evolution_connected',
      help: "1 when an Evolution line's instance last reported its connection open, 0 when not, -1 before any report",
      labelNames: ['line'] as const,
      registers,
      async collect() {
        const lines = await sources.evolutionLines?.().catch(() => null);
        if (!lines) return;
        this.reset();
        // Labels are configured line codes (router_lineas), not payload values: bounded.
        for (const l of lines) this.set({ line: l.line }, l.state === null ? -1 : l.state === 'open' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'psi_router_ready',
      help: '1 when /ready answers ok, 0 when degraded (alert: degraded for over 2 minutes)',
      registers,
      async collect() {
        this.set((await sources.ready().catch(() => false)) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'psi_router_queue_mode_enabled',
      help: '1 when this router runs in queue mode (QUEUE_MODE=bullmq)',
      registers,
      collect() {
        this.set(sources.queueModeEnabled ? 1 : 0);
      },
    });
    new Gauge({
      name: 'psi_router_queue_jobs',
      help: 'Queue-mode jobs by state',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        const counts = await sources.queue().catch(() => null);
        if (!counts) return;
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
    new Counter({
      name: 'psi_router_db_statements_total',
      help: 'Database round trips issued by this process (the benchmark divides it by messages)',
      registers,
      collect() {
        this.reset();
        this.inc(sources.statements());
      },
    });
    const threshold = (name: string, help: string, pick: (s: ReturnType<ThresholdMonitor['snapshot']>) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(pick(sources.monitor.snapshot()));
        },
      });
    threshold(
      'psi_router_messages_last_minute',
      'Messages processed in the current minute',
      (s) => s.messagesLastMinute,
    );
    threshold(
      'psi_router_messages_last_24h',
      'Messages processed in the last 24 hours (queue mode pays past ~10,000)',
      (s) => s.messagesLast24h,
    );
    threshold(
      'psi_router_peak_messages_per_minute',
      'Busiest minute of the last 24 hours (queue mode pays past ~50)',
      (s) => s.peakPerMinute24h,
    );
    threshold(
      'psi_router_processing_p95_seconds',
      'Processing latency p95 over recent messages (queue mode pays past 5 s)',
      (s) => s.processingP95Ms / 1000,
    );
    threshold(
      'psi_router_queue_mode_recommended',
      '1 when volume or latency is past the point where queue mode pays',
      (s) => (s.queueModeRecommended ? 1 : 0),
    );
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
