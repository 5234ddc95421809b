import type { Logger } from 'pino';
import { isAppError } from '../errors.js';
import { keyForLog } from '../log-safety.js';
import { ClaimLoop } from '../shared/claim-loop.js';
import { msSince as ms, settlesWithin } from '../shared/timing.js';
import { workerId } from '../shared/worker-id.js';
import type { Db } from '../store/db.js';
import { findStaleStatuses, findUnclaimedConversations } from '../store/journal-repository.js';
import {
  completeEvent,
  failEvent,
  releaseAllLeases,
  releaseLease,
  type CompletionResult,
} from '../store/processing-repository.js';
import {
  DEFAULT_CONTEXT_OPTIONS,
  loadConversationContext,
  type ContextOptions,
  type ContextResult,
} from '../store/context-query.js';
import { loadContexts } from '../store/context-batch.js';
import { completeEvents, completionBatch } from '../store/completion-batch.js';
import type { Completion } from '../store/completion-statement.js';
import type { SchemaProfile } from '../store/schema-profile.js';
import { applyStatusEvent, applyStatusEvents, type StatusOutcome } from '../store/status-repository.js';
import { reviveKnownOrphans } from '../store/outbox-repository.js';
import { BatchedStatement } from './batched-statement.js';
import { KeyedExecutor } from './keyed-executor.js';
import { errInfo } from './log-safe.js';
import type { MessageHandler } from './message-handler.js';
import { ProcessingFailures, STORE_RETRY_MS } from './processing-failures.js';
import { RetryTimers } from './retry-timers.js';

/** Who wants to know how processing goes (threshold monitor, Prometheus metrics). */
export interface ProcessingObserver {
  processed(outcome: string, durationMs: number, pickupMs: number): void;
  leaseConflict(): void;
  timeout(): void;
}

export interface ProcessorOptions {
  maxConcurrency: number;
  leaseMs: number;
  sweepIntervalMs: number;
  maxAttempts: number;
  /** Queue mode: how long to wait for an earlier acknowledged message to reach the journal. */
  orderWaitMs?: number;
  /** Create a media download job with each completed media message (off: no downloader runs). */
  mediaJobs?: boolean;
  /** Called after a commit that created a media job (wakes the downloader). */
  onMediaJob?: () => void;
  /** How the context query writes for this database (unread counting, media links, default line). */
  context?: ContextOptions;
  /** What the live columns accept: shapes the completion statement's routing writes. */
  profile: SchemaProfile;
  /** Conversations per context and per completion statement (CONTEXT_BATCH_MAX; 1 = one statement each). */
  contextBatchMax?: number;
}

/** Context (and completion) statements of one process at once: while they run, the next items gather. */
const STATEMENTS_IN_FLIGHT = 2;

const STATUS_PREFIX = 'status#';
/** Delays of the re-checks after finding a conversation leased by another worker. */
const NOT_LEASED_RETRIES_MS = [25, 100, 400];
/** A status not applied by its ingesting process within this time is picked up by the sweeper. */
const STALE_STATUS_MS = 5_000;

/**
 * Direct mode: journal events are processed in this process right after the 200. Messages go
 * through the keyed executor (one conversation at a time, many in parallel) and, inside, the
 * Postgres lease that excludes other processes. A sweeper recovers what nobody is working on:
 * leftovers of a crashed process (expired leases), events whose lease holder gave up just before
 * they arrived, and retries whose backoff has passed.
 */
export class DirectProcessor {
  readonly owner = workerId('proc');
  private readonly executor: KeyedExecutor;
  private readonly sweeper: ClaimLoop;
  private readonly retries = new RetryTimers((key) => {
    if (!this.stopping) this.executor.schedule(key);
  });
  private readonly failures: ProcessingFailures;
  private stopping = false;
  private readonly notLeased = new Map<string, number>();
  private readonly log: Logger;
  private readonly contexts: BatchedStatement<string, ContextResult>;
  private readonly completions: BatchedStatement<Completion, CompletionResult>;
  private readonly statuses: BatchedStatement<string, StatusOutcome>;

  constructor(
    private readonly db: Db,
    private readonly handler: MessageHandler,
    private readonly options: ProcessorOptions,
    log: Logger,
    private readonly observer: ProcessingObserver | null = null,
  ) {
    this.log = log.child({ module: 'processor' });
    this.failures = new ProcessingFailures({
      db,
      owner: this.owner,
      maxAttempts: options.maxAttempts,
      log: this.log,
      retryLater: (key, delayMs) => this.retryLater(key, delayMs),
      onTimeout: () => this.observer?.timeout(),
    });
    const context = options.context ?? DEFAULT_CONTEXT_OPTIONS;
    const orderWaitMs = options.orderWaitMs ?? 10_000;
    const batch = { maxBatch: options.contextBatchMax ?? 16, maxInFlight: STATEMENTS_IN_FLIGHT };
    this.contexts = new BatchedStatement<string, ContextResult>(
      {
        name: 'context',
        ...batch,
        many: (keys) => loadContexts(db, keys, this.owner, options.leaseMs, orderWaitMs, context),
        one: (key) => loadConversationContext(db, key, this.owner, options.leaseMs, orderWaitMs, context),
      },
      this.log,
    );
    const completionFn = completionBatch(options.profile);
    this.completions = new BatchedStatement<Completion, CompletionResult>(
      {
        name: 'completion',
        ...batch,
        many: (items) => completeEvents(db, completionFn, items),
        one: (item) => completeEvent(db, item, options.profile),
      },
      this.log,
    );
    this.statuses = new BatchedStatement<string, StatusOutcome>(
      {
        name: 'status',
        ...batch,
        many: (ids) => applyStatusEvents(db, ids),
        one: (id) => applyStatusEvent(db, id),
      },
      this.log,
    );
    this.executor = new KeyedExecutor(
      options.maxConcurrency,
      (key) =>
        key.startsWith(STATUS_PREFIX) ? this.applyStatus(key.slice(STATUS_PREFIX.length)) : this.drainConversation(key),
      (key, err) => this.onUnexpected(key, err),
    );
    this.sweeper = new ClaimLoop({
      name: 'sweep',
      pollMs: options.sweepIntervalMs,
      log: this.log,
      pass: async () => ({ idle: (await this.sweep()) === 0, again: false }),
    });
  }

  /** Called by ingress after the batch is durable. */
  enqueue(inserted: readonly { id: string; kind: string; convKey: string | null }[]): void {
    if (this.stopping) return; // the sweeper of the next process start picks these up
    for (const item of inserted) {
      if (item.kind === 'message' && item.convKey) this.executor.schedule(item.convKey);
      else if (item.kind === 'status') this.executor.schedule(STATUS_PREFIX + item.id);
    }
  }

  start(): void {
    this.sweeper.start();
  }

  /** One recovery pass: conversations nobody holds, statuses left behind. */
  async sweep(): Promise<number> {
    const keys = await findUnclaimedConversations(this.db, 500);
    let scheduled = 0;
    for (const key of keys) {
      if (!this.executor.isScheduled(key)) {
        this.executor.schedule(key);
        scheduled += 1;
      }
    }
    for (const id of await reviveKnownOrphans(this.db)) {
      this.executor.schedule(STATUS_PREFIX + id);
      scheduled += 1;
    }
    for (const id of await findStaleStatuses(this.db, STALE_STATUS_MS, 500)) {
      this.executor.schedule(STATUS_PREFIX + id);
      scheduled += 1;
    }
    if (scheduled > 0) this.log.debug({ scheduled }, 'sweeper scheduled pending work');
    return scheduled;
  }

  whenIdle(): Promise<void> {
    return this.executor.whenIdle();
  }

  stats() {
    return {
      scheduled: this.executor.size,
      inFlight: this.executor.inFlight,
      retryTimers: this.retries.size,
      owner: this.owner,
      contextBatches: this.contexts.stats(),
      completionBatches: this.completions.stats(),
      statusBatches: this.statuses.stats(),
    };
  }

  /** Stops taking work, waits up to `timeoutMs` for in-flight work, hands leases back. */
  async stop(timeoutMs: number): Promise<{ drained: boolean }> {
    this.stopping = true;
    this.retries.clear();
    const drained = await settlesWithin(Promise.all([this.sweeper.stop(), this.executor.whenIdle()]), timeoutMs);
    try {
      await releaseAllLeases(this.db, this.owner);
    } catch (err) {
      this.log.warn({ err: errInfo(err) }, 'could not release leases at shutdown; they expire by themselves');
    }
    return { drained };
  }

  /** Processes the conversation's pending events in order until none is left or the lease is gone. */
  private async drainConversation(convKey: string): Promise<void> {
    const { maxAttempts } = this.options;
    while (!this.stopping) {
      const started = performance.now();
      let ctx: ContextResult;
      try {
        ctx = await this.contexts.submit(convKey);
      } catch (err) {
        if ((await this.failures.contextFailed(convKey, err)) === 'next') continue;
        return;
      }
      if (ctx.status === 'not_leased') {
        // Another worker holds the conversation. It takes our event too unless it is just letting go;
        // look again shortly (a few times), then leave it to the sweeper.
        this.observer?.leaseConflict();
        const tries = (this.notLeased.get(convKey) ?? 0) + 1;
        if (tries <= NOT_LEASED_RETRIES_MS.length) {
          this.notLeased.set(convKey, tries);
          this.retryLater(convKey, NOT_LEASED_RETRIES_MS[tries - 1]!);
        } else {
          this.notLeased.delete(convKey);
        }
        return;
      }
      this.notLeased.delete(convKey);
      if (ctx.status === 'gap') {
        // The missing message's worker schedules this conversation once it journals it; the sweeper
        // is the fallback (and ends the wait after orderWaitMs).
        await releaseLease(this.db, convKey, this.owner);
        this.retryLater(convKey, 50);
        return;
      }
      if (ctx.status === 'empty') {
        await releaseLease(this.db, convKey, this.owner);
        return;
      }
      if (ctx.status === 'backoff') {
        await releaseLease(this.db, convKey, this.owner);
        this.retryLater(convKey, ctx.waitMs);
        return;
      }
      if (ctx.status === 'incomplete') {
        // Counted by the statement that returned it: record the failure without counting again.
        const failure = { eventId: ctx.eventId, attempt: ctx.attempt, err: ctx.reason, durationMs: ms(started) };
        if ((await this.failures.attemptFailed(convKey, failure)) === 'next') continue;
        return;
      }
      // No wamid in logs: it embeds the customer's phone number (base64). eventId leads to it in the journal.
      const base = {
        requestId: ctx.requestId,
        eventId: ctx.eventId,
        conversationId: ctx.conversation.id,
        event: ctx.event.type,
      };
      if (ctx.attempt > maxAttempts) {
        // Attempts are counted by the context query itself, so a message that kills the process
        // every time it is handled still ends in the dead-letter state instead of looping forever.
        await failEvent(this.db, {
          eventId: ctx.eventId,
          convKey,
          owner: this.owner,
          error: 'too many attempts',
          maxAttempts,
          backoffMs: 0,
        });
        this.log.error({ ...base, attempt: ctx.attempt, outcome: 'dead_letter' }, 'message dead-lettered');
        continue;
      }
      // Routing or its commit failed: an attempt of this event (backoff, then the dead letter).
      const failed = (err: unknown) =>
        this.failures.attemptFailed(convKey, {
          eventId: ctx.eventId,
          attempt: ctx.attempt,
          err,
          durationMs: ms(started),
          fields: base,
        });
      let plan;
      try {
        plan = await this.handler.handle(ctx);
      } catch (err) {
        if ((await failed(err)) === 'next') continue;
        return;
      }
      const mediaJobs = this.options.mediaJobs === true && Boolean(ctx.event.media);
      let done;
      try {
        done = await this.completions.submit({
          eventId: ctx.eventId,
          convKey,
          owner: this.owner,
          writes: plan.writes,
          mediaJob: mediaJobs,
        });
      } catch (err) {
        // A CRM trigger or constraint on what routing writes fails this statement every time: the
        // attempt was counted by the context query, so record it and let the backoff (and, past
        // PROCESS_MAX_ATTEMPTS, the dead letter) decide, instead of retrying at a fixed pace.
        if (isAppError(err) && err.code === 'STORE_UNAVAILABLE') throw err;
        if ((await failed(err)) === 'next') continue;
        return;
      }
      if (!done.committed) {
        this.log.warn(
          { ...base, outcome: 'lease_lost' },
          'lease lost before commit; another worker owns the conversation',
        );
        return;
      }
      plan.afterCommit?.();
      if (mediaJobs) this.options.onMediaJob?.();
      const durationMs = ms(started);
      this.observer?.processed(plan.outcome, durationMs, ctx.pickupMs);
      this.log.info(
        { ...base, attempt: ctx.attempt, outcome: plan.outcome, durationMs, pickupMs: Math.round(ctx.pickupMs) },
        'message processed',
      );
      if (!done.more) return;
    }
  }

  private async applyStatus(eventId: string): Promise<void> {
    const started = performance.now();
    const outcome = await this.withStoreRetry(STATUS_PREFIX + eventId, () => this.statuses.submit(eventId));
    if (outcome !== null)
      this.log.debug({ eventId, event: 'status', outcome, durationMs: ms(started) }, 'status processed');
  }

  /** Statuses: database unreachable → leave the event pending (it is durable) and try again shortly. */
  private async withStoreRetry<T>(key: string, fn: () => Promise<T>): Promise<T | null> {
    try {
      return await fn();
    } catch (err) {
      if (isAppError(err) && err.retryable) {
        if (err.code === 'DB_TIMEOUT') this.observer?.timeout();
        this.log.warn({ ...keyForLog(key), err: errInfo(err) }, 'store unavailable; will retry');
        this.retryLater(key, STORE_RETRY_MS);
        return null;
      }
      throw err;
    }
  }

  /** Schedules `key` again after `delayMs` (one retry per key at a time: retry-timers.ts). */
  private retryLater(key: string, delayMs: number): void {
    if (this.stopping) return;
    this.retries.schedule(key, delayMs);
  }

  private onUnexpected(key: string, err: unknown): void {
    // The key is `<phone_number_id>:<phone>`: logged hashed (log-safety.ts), never as is.
    this.log.error({ ...keyForLog(key), err: errInfo(err) }, 'unexpected processing error; will retry');
    this.retryLater(key, STORE_RETRY_MS);
  }
}
