import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { hashId } from '../log-safety.js';
import type { Db } from '../store/db.js';
import { appendToJournal } from '../store/journal-repository.js';
import type { DirectProcessor } from './direct-processor.js';
import { INBOUND_QUEUE, type InboundJobData } from './queues.js';

/**
 * Queue mode's consumer: a job is done once its event is in the journal; from there the very same
 * processor as direct mode takes over (per-conversation lease, order by WhatsApp time). So the queue
 * only moves the durability point off the ack path — one processor, two transports. A job that
 * cannot reach the database is retried by BullMQ and, after its last attempt, waits in the failed set.
 */
export function startInboundWorker(args: {
  connection: Redis;
  db: Db;
  processor: DirectProcessor;
  concurrency: number;
  /** A killed worker's jobs go back to the queue after this long (BullMQ lock + stalled check). */
  lockMs: number;
  log: Logger;
}): Worker<InboundJobData> {
  const log = args.log.child({ module: 'inbound-worker' });
  const worker = new Worker<InboundJobData>(
    INBOUND_QUEUE,
    async (job: Job<InboundJobData>) => {
      const { inserted, pending } = await appendToJournal(args.db, [job.data.event], job.data.requestId, [job.data.seq ?? null]);
      args.processor.enqueue(pending);
      return { journalled: inserted.length };
    },
    { connection: args.connection, concurrency: args.concurrency, autorun: true, lockDuration: args.lockMs, stalledInterval: args.lockMs },
  );
  worker.on('failed', (job, err) => {
    const last = job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1);
    // Job ids embed the wamid (base64 of the customer's phone): hashed; the dead-letter list shows them.
    log[last ? 'error' : 'warn'](
      { jobHash: hashId(job?.id), kind: job?.data.event.kind, attempt: job?.attemptsMade, err: { message: err.message } },
      last ? 'inbound job dead-lettered' : 'inbound job failed; BullMQ retries it',
    );
  });
  worker.on('error', (err) => log.warn({ err: { message: err.message } }, 'inbound worker connection error'));
  return worker;
}
