import { backoffMs } from '../shared/backoff.js';
import type { JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
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

/**
 * Producer connection (webhook ack path): no offline queue and one try per command, so a Redis outage
 * surfaces at once as a 503 to Meta instead of a request hanging on a reconnect.
 */
export function producerConnection(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    lazyConnect: false,
  } satisfies RedisOptions);
}

/** Worker connection: blocking commands must wait through reconnects (BullMQ requires null here). */
export function workerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectTimeout: 5_000 });
}
