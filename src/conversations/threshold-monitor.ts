import type { Logger } from 'pino';

/**
 * Watches the volume and latency at which queue mode starts paying off (DESIGN §6): more than
 * ~10,000 messages a day, peaks over 50 a minute, processing latency p95 over 5 s, or timeouts.
 * Counts live in per-minute buckets for the last 24 h; latencies in a bounded recent sample. When a
 * threshold is crossed it logs a warning (at most once per reason per 10 minutes) and the gauges
 * show it in /metrics and /admin/stats.
 */
export const THRESHOLDS = { perDay: 10_000, perMinute: 50, p95Ms: 5_000 } as const;

const MINUTE = 60_000;
const DAY_MINUTES = 24 * 60;
const SAMPLE = 2_000;
const WARN_EVERY_MS = 10 * MINUTE;

export interface ThresholdSnapshot {
  messagesLastMinute: number;
  messagesLast24h: number;
  peakPerMinute24h: number;
  processingP95Ms: number;
  pickupP95Ms: number;
  timeouts: number;
  leaseConflicts: number;
  ackP99Ms: number;
  queueModeRecommended: boolean;
  reasons: string[];
}

export class ThresholdMonitor {
  private readonly buckets = new Map<number, number>();
  private readonly processing: number[] = [];
  private readonly pickup: number[] = [];
  private readonly acks: number[] = [];
  private timeouts = 0;
  private leaseConflicts = 0;
  private readonly lastWarned = new Map<string, number>();
  private lastCheck = -Infinity;
  private lastVolumeCheck = -Infinity;

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  recordProcessed(durationMs: number, pickupMs: number): void {
    const minute = Math.floor(this.now() / MINUTE);
    this.buckets.set(minute, (this.buckets.get(minute) ?? 0) + 1);
    push(this.processing, durationMs);
    push(this.pickup, pickupMs);
    if (this.buckets.size > DAY_MINUTES + 5) this.prune(minute);
    this.check();
  }

  recordAck(_events: number, ackMs: number): void {
    push(this.acks, ackMs);
  }

  recordTimeout(): void {
    this.timeouts += 1;
    this.check();
  }

  recordLeaseConflict(): void {
    this.leaseConflicts += 1;
  }

  snapshot(): ThresholdSnapshot {
    const minute = Math.floor(this.now() / MINUTE);
    let day = 0;
    let peak = 0;
    for (const [m, n] of this.buckets) {
      if (m > minute - DAY_MINUTES) {
        day += n;
        peak = Math.max(peak, n);
      }
    }
    const processingP95Ms = percentile(this.processing, 0.95);
    const reasons: string[] = [];
    if (day > THRESHOLDS.perDay) reasons.push(`more than ${THRESHOLDS.perDay} messages in 24 h (${day})`);
    if (peak > THRESHOLDS.perMinute) reasons.push(`peak of ${peak} messages/minute (over ${THRESHOLDS.perMinute})`);
    if (processingP95Ms > THRESHOLDS.p95Ms)
      reasons.push(`processing p95 ${Math.round(processingP95Ms)} ms (over ${THRESHOLDS.p95Ms} ms)`);
    if (this.timeouts > 0) reasons.push(`${this.timeouts} timeouts`);
    return {
      messagesLastMinute: this.buckets.get(minute) ?? 0,
      messagesLast24h: day,
      peakPerMinute24h: peak,
      processingP95Ms,
      pickupP95Ms: percentile(this.pickup, 0.95),
      timeouts: this.timeouts,
      leaseConflicts: this.leaseConflicts,
      ackP99Ms: percentile(this.acks, 0.99),
      queueModeRecommended: reasons.length > 0,
      reasons,
    };
  }

  /**
   * Volume thresholds are checked on every message (the current minute's count is O(1)); the full
   * snapshot, which sorts the latency sample, runs at most once a second or when volume trips.
   */
  private check(): void {
    const t = this.now();
    const minuteCount = this.buckets.get(Math.floor(t / MINUTE)) ?? 0;
    const volumeNews =
      (minuteCount > THRESHOLDS.perMinute || this.timeouts > 0) && t - this.lastVolumeCheck >= WARN_EVERY_MS;
    if (!volumeNews && t - this.lastCheck < 1_000) return;
    if (volumeNews) this.lastVolumeCheck = t;
    this.lastCheck = t;
    const snap = this.snapshot();
    for (const reason of snap.reasons) {
      const kind = reason.replace(/[0-9]+/g, '#');
      if (t - (this.lastWarned.get(kind) ?? -Infinity) < WARN_EVERY_MS) continue;
      this.lastWarned.set(kind, t);
      this.log.warn(
        { threshold: reason, snapshot: { ...snap, reasons: undefined } },
        'volume past the point where queue mode pays: consider QUEUE_MODE=bullmq with workers',
      );
    }
  }

  private prune(minute: number): void {
    for (const m of this.buckets.keys()) if (m <= minute - DAY_MINUTES) this.buckets.delete(m);
  }
}

function push(sample: number[], value: number): void {
  sample.push(value);
  if (sample.length > SAMPLE) sample.splice(0, sample.length - SAMPLE);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
}
