import type { ServerResponse } from 'node:http';
import type { ProcessingObserver } from '../conversations/direct-processor.js';
import type { ThresholdMonitor } from '../conversations/threshold-monitor.js';
import type { SendResult } from '../outbound/outbox-sender.js';
import type { InboundEvent } from '../webhook/inbound-event.js';
import { eventTypeLabel, outboundCodeLabel } from './metric-labels.js';
import type { RouterMetrics } from './metrics.js';

/** Processing results go to both the threshold monitor and Prometheus. */
export function processingObserver(
  monitor: ThresholdMonitor,
  metrics: RouterMetrics,
  onProcessed?: () => void,
): ProcessingObserver {
  return {
    processed(outcome, durationMs, pickupMs) {
      onProcessed?.();
      monitor.recordProcessed(durationMs, pickupMs);
      metrics.processing.observe({ outcome }, durationMs / 1000);
      metrics.pickupWait.observe(pickupMs / 1000);
    },
    leaseConflict() {
      monitor.recordLeaseConflict();
      metrics.leaseConflicts.inc();
    },
    timeout() {
      monitor.recordTimeout();
      metrics.timeouts.inc();
    },
  };
}

export function recordAccepted(
  metrics: RouterMetrics,
  monitor: ThresholdMonitor,
  events: readonly InboundEvent[],
  ackMs: number,
  duplicates: number,
): void {
  monitor.recordAck(events.length, ackMs);
  metrics.ackLatency.observe(ackMs / 1000);
  if (duplicates > 0) metrics.dedupHits.inc(duplicates);
  // Label values from the payload are bounded (metric-labels.ts): an attacker's invented statuses
  // must not become series of their own. Counted per label set first: one inc() per event cost
  // ~1 µs each, 50 ms for a 50,000-item batch.
  const counts = new Map<string, { kind: string; type: string; n: number }>();
  for (const e of events) {
    const type = eventTypeLabel(e);
    const key = `${e.kind}\u0000${type}`;
    const count = counts.get(key);
    if (count) count.n += 1;
    else counts.set(key, { kind: e.kind, type, n: 1 });
  }
  for (const { kind, type, n } of counts.values()) metrics.events.inc({ kind, type }, n);
}

export function recordSend(metrics: RouterMetrics, channel: string, result: SendResult): void {
  metrics.outbound.inc({ channel, result: result.outcome, code: outboundCodeLabel(result.code) });
}

/** Counts a webhook POST's outcome once its answer is written (Express route and fast path alike). */
export function countWebhookOutcome(metrics: RouterMetrics, res: ServerResponse): void {
  res.once('finish', () => metrics.webhookRequests.inc({ outcome: webhookOutcome(res.statusCode) }));
}

/** HTTP status of a webhook POST → the outcome label operators read. */
export function webhookOutcome(status: number): string {
  if (status === 200) return 'accepted';
  if (status === 401 || status === 403) return 'rejected_signature';
  if (status === 400) return 'bad_payload';
  if (status === 413) return 'too_large';
  if (status === 503) return 'unavailable';
  return 'error';
}
