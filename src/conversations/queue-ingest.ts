import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError } from '../errors.js';
import { conversationKey, eventKey } from '../webhook/event-keys.js';
import { assignSequenceNumbers } from './sequence-numbers.js';
import type { WebhookIngest } from './ingest.js';
import { INBOUND_QUEUE, inboundJobId, inboundJobOptions, type InboundJobData } from './queues.js';

/**
 * Queue mode ack path: per-conversation sequence numbers (one Lua call), then the batch becomes
 * BullMQ jobs in one pipelined round trip; no database work before the 200. The job id comes from the event key, so Meta's redeliveries and
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
      const unique = [];
      for (const event of events) {
        const key = eventKey(event);
        if (seen.has(key)) continue;
        seen.add(key);
        unique.push({ event, key, convKey: conversationKey(event) });
      }
      try {
        const ordered = unique.filter((u) => u.convKey !== null);
        const seqs = await assignSequenceNumbers(connection, ordered.map((u) => ({ convKey: u.convKey!, eventKey: u.key })));
        const seqOf = new Map(ordered.map((u, i) => [u.key, seqs[i] ?? null]));
        const jobs = unique.map((u) => ({
          name: u.event.kind,
          data: { event: u.event, requestId, acceptedAt, seq: seqOf.get(u.key) ?? null },
          opts: { jobId: inboundJobId(u.key) },
        }));
        if (jobs.length > 0) await queue.addBulk(jobs);
      } catch (err) {
        throw new AppError('QUEUE_UNAVAILABLE', 'could not enqueue the batch', { cause: err });
      }
      return { accepted: unique.length, duplicates: events.length - unique.length };
    },
    close: () => queue.close(),
  };
}
