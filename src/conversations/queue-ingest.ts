import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError } from '../errors.js';
import { TimeSlicer } from '../shared/time-slicer.js';
import { conversationKey, eventKey } from '../webhook/event-keys.js';
import { assignSequenceNumbers } from './sequence-numbers.js';
import type { WebhookIngest } from './ingest.js';
import { INBOUND_QUEUE, inboundJobId, inboundJobOptions, type InboundJobData } from './queues.js';

/** Events per enqueue round trip: BullMQ builds every job of an addBulk in one synchronous run. */
export const ENQUEUE_SLICE = 250;

/**
 * Queue mode ack path: per-conversation sequence numbers (one Lua call), then the batch becomes
 * BullMQ jobs in one pipelined round trip; no database work before the 200. The job id comes from
 * the event key, so Meta's redeliveries and in-batch duplicates collapse while the job exists (and
 * in the journal afterwards). A batch bigger than ENQUEUE_SLICE (50,000 statuses fit in 5 MB) is
 * enqueued slice by slice with the event loop given back in between — in one run it stalled the
 * process for 3 s; should a slice fail, Meta gets 503 and its redelivery collapses on the job ids of
 * the slices already in.
 */
export function queueIngest(
  connection: Redis,
  retry: { attempts: number; backoffMs: number },
): WebhookIngest & { queue: Queue; close(): Promise<void> } {
  const queue = new Queue<InboundJobData>(INBOUND_QUEUE, {
    connection,
    defaultJobOptions: inboundJobOptions(retry.attempts, retry.backoffMs),
  });
  // Errors surface through add() rejections; the listener keeps an idle disconnect from crashing us.
  queue.on('error', () => undefined);
  return {
    transport: 'queue',
    queue,
    async ingest(events, requestId) {
      if (connection.status !== 'ready') throw new AppError('QUEUE_UNAVAILABLE', 'Redis is not connected');
      const acceptedAt = Date.now();
      const slicer = new TimeSlicer();
      const seen = new Set<string>();
      const unique = [];
      for (const event of events) {
        if (slicer.due) await slicer.pause();
        const key = eventKey(event);
        if (seen.has(key)) continue;
        seen.add(key);
        unique.push({ event, key, convKey: conversationKey(event) });
      }
      try {
        // Slices go in order, so each conversation's sequence numbers still follow the batch.
        for (let at = 0; at < unique.length; at += ENQUEUE_SLICE) {
          await slicer.pauseIfDue();
          const slice = unique.slice(at, at + ENQUEUE_SLICE);
          const ordered = slice.filter((u) => u.convKey !== null);
          const seqs = await assignSequenceNumbers(
            connection,
            ordered.map((u) => ({ convKey: u.convKey!, eventKey: u.key })),
          );
          const seqOf = new Map(ordered.map((u, i) => [u.key, seqs[i] ?? null]));
          const jobs = slice.map((u) => ({
            name: u.event.kind,
            data: { event: u.event, requestId, acceptedAt, seq: seqOf.get(u.key) ?? null },
            opts: { jobId: inboundJobId(u.key) },
          }));
          await queue.addBulk(jobs);
        }
      } catch (err) {
        throw new AppError('QUEUE_UNAVAILABLE', 'could not enqueue the batch', { cause: err });
      }
      return { accepted: unique.length, duplicates: events.length - unique.length };
    },
    close: () => queue.close(),
  };
}
