import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { hashId } from '../log-safety.js';
import { isAppError } from '../errors.js';
import type { Db } from '../store/db.js';
import { appendToJournal } from '../store/journal-repository.js';
import type { DirectProcessor } from './direct-processor.js';
import { INBOUND_QUEUE, outageDelayMs, type InboundJobData } from './queues.js';

/**
 * Queue mode's consumer: a job is done once its event is in the journal; from there the very same
 * processor as direct mode takes over (per-conversation lease, order by WhatsApp time). So the queue
 * only moves the durability point off the ack path — one processor, two transports.
 *
 * Meta got its 200 for every job here, so a job must never be given up because the database is away:
 * an unavailable store puts the job back (delayed, capped backoff) without spending an attempt, for as
 * long as the outage lasts. Only a job that fails for a reason of its own (its insert is refused)
 * spends its attempts and, after the last, waits in the failed set.
 */
export function startInboundWorker(args: {
  connection: Redis;
  db: Db;
  processor: DirectProcessor;
  concurrency: number;
  /** A killed worker's jobs go back to the queue after this long (BullMQ lock + stalled check). */
  lockMs: number;
  /** First delay of a job put back during a database outage (QUEUE_JOB_BACKOFF_MS); doubles, capped. */
  outageBackoffMs: number;
  log: Logger;
}): Worker<InboundJobData> {
  const log = args.log.child({ module: 'inbound-worker' });
  const worker = new Worker<InboundJobData>(
    INBOUND_QUEUE,
    async (job: Job<InboundJobData>, token?: string) => {
      try {
        const { inserted, pending } = await appendToJournal(args.db, [job.data.event], job.data.requestId, [
          job.data.seq ?? null,
        ]);
        args.processor.enqueue(pending);
        return { journalled: inserted.length };
      } catch (err) {
        if (!isAppError(err) || err.code !== 'STORE_UNAVAILABLE') throw err;
        // attemptsStarted counts every pick-up, attemptsMade only real failures: their gap is how
        // many times this job already met the outage.
        const waits = Math.max(0, job.attemptsStarted - job.attemptsMade - 1);
        const delayMs = outageDelayMs(args.outageBackoffMs, waits);
        log.warn(
          { code: err.code, dbCode: err.details?.dbCode, outageWaits: waits + 1, delayMs },
          'database unavailable: inbound job put back, no attempt spent',
        );
        await job.moveToDelayed(Date.now() + delayMs, token);
        // BullMQ's signal that the job was moved on purpose: not a failure, no attempt counted.
        throw new DelayedError();
      }
    },
    {
      connection: args.connection,
      concurrency: args.concurrency,
      autorun: true,
      lockDuration: args.lockMs,
      stalledInterval: args.lockMs,
    },
  );
  worker.on('failed', (job, err) => {
    const last = job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1);
    // Job ids embed the wamid (base64 of the customer's phone): hashed; the dead-letter list shows them.
    log[last ? 'error' : 'warn'](
      {
        jobHash: hashId(job?.id),
        kind: job?.data.event.kind,
        attempt: job?.attemptsMade,
        err: { message: err.message },
      },
      last ? 'inbound job dead-lettered' : 'inbound job failed; BullMQ retries it',
    );
  });
  worker.on('error', (err) => log.warn({ err: { message: err.message } }, 'inbound worker connection error'));
  return worker;
}
