import type { ThresholdMonitor } from '../conversations/threshold-monitor.js';
import type { CircuitState } from '../outbound/circuit-breaker.js';
import type { BacklogCounts } from '../store/admin-repository.js';
import type { Pm2Channel, Pm2Metric } from './pm2-channel.js';
import { RateWindow } from './rate-window.js';

export interface Pm2ProbeSources {
  monitor: ThresholdMonitor;
  /** null when there is no Graph client (dry run). */
  circuit: () => CircuitState | null;
  backlog: () => Promise<BacklogCounts>;
}

/** How often PM2 gets fresh values; the database counts are read at most this often too. */
export const PM2_REPORT_MS = 2_000;

/** The names `pm2 monit` and `pm2 describe` show under "Code metrics" (README "Operations"). */
export const PM2_METRIC_NAMES = {
  in: 'Msgs in/min',
  out: 'Msgs out/min',
  journal: 'Journal pending',
  outboxWhatsapp: 'Outbox whatsapp',
  outboxInbox: 'Outbox inbox',
  dead: 'Dead letters',
  p95: 'Processing p95',
  circuit: 'Graph circuit',
  queueMode: 'Queue mode',
  media: 'Media backlog',
} as const;

/**
 * The operator's numbers in `pm2 monit`: rates counted in this process (messages it took in —
 * accepted at its webhook, or processed by a worker — and replies it sent), backlogs read from the
 * database every PM2_REPORT_MS (one small statement; shared state, so every process shows the same),
 * and the threshold monitor's verdict on queue mode.
 */
export class Pm2Probes {
  readonly messagesIn = new RateWindow();
  readonly messagesOut = new RateWindow();
  private timer: NodeJS.Timeout | null = null;
  private backlog: BacklogCounts | null = null;
  private reading = false;

  constructor(
    private readonly channel: Pm2Channel,
    private readonly sources: Pm2ProbeSources,
  ) {}

  start(): void {
    if (!this.channel.active || this.timer) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), PM2_REPORT_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Reads the backlog (skipped while the previous read is still out) and reports everything. */
  async tick(): Promise<void> {
    if (!this.reading) {
      this.reading = true;
      try {
        this.backlog = await this.sources.backlog();
      } catch {
        // The database is away: the backlog shows as unavailable, and /ready says why.
        this.backlog = null;
      } finally {
        this.reading = false;
      }
    }
    this.channel.report(this.values());
  }

  values(): Record<string, Pm2Metric> {
    const n = PM2_METRIC_NAMES;
    const t = this.sources.monitor.snapshot();
    const b = this.backlog;
    const count = (v: number | undefined): Pm2Metric => ({ value: v ?? 'n/a' });
    return {
      [n.in]: { value: this.messagesIn.perMinute() },
      [n.out]: { value: this.messagesOut.perMinute() },
      [n.journal]: count(b?.journalPending),
      [n.outboxWhatsapp]: count(b?.whatsapp),
      [n.outboxInbox]: count(b?.inbox),
      [n.dead]: count(b?.deadLetters),
      [n.p95]: { value: Math.round(t.processingP95Ms), unit: 'ms' },
      [n.circuit]: { value: this.sources.circuit() ?? 'no token (dry run)' },
      [n.queueMode]: { value: t.queueModeRecommended ? 'recommended' : 'not needed' },
      [n.media]: count(b?.mediaBacklog),
    };
  }
}
