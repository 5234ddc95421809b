import { backoffMs } from '../shared/backoff.js';
import type { JobsOptions } from 'bullmq';
import type { InboundEvent } from '../webhook/inbound-event.js';

/** The one queue of queue mode: webhook events on their way to the journal. */
export const INBOUND_QUEUE = 'psi-inbound';

export interface InboundJobData {
  event: InboundEvent;
  requestId: string;
  /** Per-conversation sequence number from the ack path (messages only). */
  seq: number | null;
  /** Epoch ms when the webhook accepted it (for pickup latency). */
  acceptedAt: number;
}

/**
 * Attempts are for jobs that fail for a reason of their own (the journal refuses the event): retried
 * with exponential backoff, then kept in BullMQ's failed set — the dead-letter place — with their
 * error until replayed (`npm run queue -- replay`, POST /admin/dead-letters/replay). A database
 * outage spends no attempt (inbound-worker.ts). Completed jobs are kept an hour so Meta's quick
 * redeliveries collapse on the job id (the journal dedupes the rest).
 */
export function inboundJobOptions(attempts: number, backoffMs: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: backoffMs },
    removeOnComplete: { age: 3_600, count: 100_000 },
    removeOnFail: false,
  };
}

/** Longest wait of a job put back during a database outage: bounds the lag once the database returns. */
export const OUTAGE_BACKOFF_CAP_MS = 30_000;

/** Delay before the (waits+1)-th retry of a job that met a database outage: doubling, capped. */
export const outageDelayMs = (baseMs: number, waits: number): number =>
  backoffMs(waits + 1, { baseMs, capMs: OUTAGE_BACKOFF_CAP_MS });

/** Job id from the event's idempotency key; BullMQ reserves ':' in ids. */
export const inboundJobId = (eventKey: string): string => `in-${eventKey.replaceAll(':', '_')}`;
