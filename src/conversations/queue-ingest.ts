import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError } from '../errors.js';
import { eventKey } from '../webhook/event-keys.js';
import type { WebhookIngest } from './ingest.js';
import { INBOUND_QUEUE, inboundJobId, inboundJobOptions, type InboundJobData } from './queues.js';

/**
 * Queue mode ack path: the batch becomes BullMQ jobs in one pipelined round trip to Redis; no
 * database work before the 200. The job id comes from the event key, so Meta's redeliveries and
 * in-batch duplicates collapse while the job exists (and in the journal afterwards).
 */
export function queueIngest(
  connection: Redis,
  retry: { attempts: number; backoffMs: number },
): WebhookIngest & { queue: Queue; close(): Promise<void> } {
  const queue = new Queue<InboundJobData>(INBOUND_QUEUE, { connection, defaultJobOptions: inboundJobOptions(retry.attempts, retry.backoffMs) });
  // Errors surface through add() rejections; the listener keeps an idle disconnect from crashing us.
  queue.on('error', () => undefined);
  return {
    transport: 'queue',
    queue,
    async ingest(events, requestId) {
      if (connection.status !== 'ready') throw new AppError('QUEUE_UNAVAILABLE', 'Redis is not connected');
      const acceptedAt = Date.now();
      const seen = new Set<string>();
      const jobs = [];
      for (const event of events) {
        const key = eventKey(event);
        if (seen.has(key)) continue;
        seen.add(key);
        jobs.push({ name: event.kind, data: { event, requestId, acceptedAt }, opts: { jobId: inboundJobId(key) } });
      }
      try {
        if (jobs.length > 0) await queue.addBulk(jobs);
      } catch (err) {
        throw new AppError('QUEUE_UNAVAILABLE', 'could not enqueue the batch', { cause: err });
      }
      return { accepted: jobs.length, duplicates: events.length - jobs.length };
    },
    close: () => queue.close(),
  };
}
