import type { Logger } from 'pino';
import { isAppError } from '../errors.js';
import { backoffMs as backoffAfter, type Backoff } from '../shared/backoff.js';
import type { Queryable } from '../store/db.js';
import { failEvent, recordFailedAttempt } from '../store/processing-repository.js';
import { describeError, errInfo, keyRef } from './log-safe.js';

/** Retry backoff of a failed message: 0.5 s, 1 s, 2 s … capped at 60 s (shared/backoff.ts). */
export const RETRY_BACKOFF: Backoff = { baseMs: 500, capMs: 60_000 };
/** The database is unreachable: the event is durable, look again in a second (not an attempt). */
export const STORE_RETRY_MS = 1_000;

/** A lost race (unique violation on create, deadlock): look again almost at once. */
const RACE_RETRY_MS = 10;

/** What the drain loop does once a failure is recorded: take the next event, or stop (a retry is set). */
export type AfterFailure = 'next' | 'stop';

export interface FailureDeps {
  db: Queryable;
  owner: string;
  maxAttempts: number;
  log: Logger;
  retryLater: (key: string, delayMs: number) => void;
  onTimeout?: () => void;
}

/**
 * How a failed attempt of a message is recorded, whatever failed: the context statement, the
 * routing step, or the completion statement. Each failure counts, backs off exponentially and, past
 * PROCESS_MAX_ATTEMPTS, dead-letters the event so its conversation moves on. Only an unreachable
 * database is not an attempt: the event is durable and simply waits. Log lines carry the event id and
 * a keyed hash of the conversation key, never the key (it holds the phone).
 */
export class ProcessingFailures {
  constructor(private readonly d: FailureDeps) {}

  /**
   * The context statement failed. A constraint or trigger of the CRM's, an index row PostgreSQL
   * refuses, a statement timeout, a lost create race: an attempt of the conversation's next event,
   * counted by a statement of its own because the failed one rolled its own count back
   * (store/processing-repository.ts recordFailedAttempt).
   */
  async contextFailed(convKey: string, err: unknown): Promise<AfterFailure> {
    const { log, retryLater } = this.d;
    const ref = keyRef(convKey);
    if (isAppError(err) && err.code === 'DB_TIMEOUT') this.d.onTimeout?.();
    if (isAppError(err) && err.code === 'STORE_UNAVAILABLE') {
      log.warn({ conversation: ref, err: errInfo(err) }, 'store unavailable; will retry');
      retryLater(convKey, STORE_RETRY_MS);
      return 'stop';
    }
    // A deadlock or serialization failure: PostgreSQL chose this statement to undo, all of it (the
    // attempt's count too); nothing about the message is wrong, so it is retried at once and is not
    // an attempt — several in a row must not dead-letter a good message.
    if (isAppError(err) && err.code === 'DB_CONFLICT') {
      log.debug({ conversation: ref, err: errInfo(err), outcome: 'retry' }, 'lost a lock race; retrying at once');
      retryLater(convKey, RACE_RETRY_MS);
      return 'stop';
    }
    // The same customer's first messages on two lines at one instant: both try to create the
    // contact; the loser's unique violation undid its statement, and an immediate retry finds the row.
    // Counted (without backoff): a unique violation may also be a constraint the data always breaks.
    const raced = isAppError(err) && err.code === 'DB_DUPLICATE';
    let failed;
    try {
      failed = await recordFailedAttempt(this.d.db, {
        convKey,
        owner: this.d.owner,
        error: describeError(err),
        maxAttempts: this.d.maxAttempts,
        backoff: raced ? { baseMs: 0, capMs: 0 } : RETRY_BACKOFF,
      });
    } catch (recordErr) {
      log.warn(
        { conversation: ref, err: errInfo(err), recordErr: errInfo(recordErr) },
        'context query failed and the attempt could not be recorded; will retry',
      );
      retryLater(convKey, STORE_RETRY_MS);
      return 'stop';
    }
    if (failed === null) {
      // Nothing due to charge (another worker holds the conversation, or it has nothing pending).
      log.warn({ conversation: ref, err: errInfo(err) }, 'context query failed; nothing of ours to retry');
      retryLater(convKey, STORE_RETRY_MS);
      return 'stop';
    }
    const fields = { conversation: ref, eventId: failed.eventId, attempt: failed.attempt, err: errInfo(err) };
    if (failed.dead) {
      log.error({ ...fields, outcome: 'dead_letter' }, 'message dead-lettered');
      return 'next';
    }
    if (raced) log.debug({ ...fields, outcome: 'retry' }, 'lost a create race; retrying at once');
    else
      log.warn({ ...fields, outcome: 'retry', retryInMs: failed.backoffMs }, 'message processing failed; will retry');
    retryLater(convKey, raced ? RACE_RETRY_MS : failed.backoffMs);
    return 'stop';
  }

  /** Routing or completion failed after the context statement counted the attempt: record it. */
  async attemptFailed(
    convKey: string,
    failure: { eventId: string; attempt: number; err: unknown; durationMs: number; fields?: Record<string, unknown> },
  ): Promise<AfterFailure> {
    const { eventId, attempt, err } = failure;
    const backoffMs = backoffAfter(attempt, RETRY_BACKOFF);
    const { dead } = await failEvent(this.d.db, {
      eventId,
      convKey,
      owner: this.d.owner,
      error: describeError(err),
      maxAttempts: this.d.maxAttempts,
      backoffMs,
    });
    this.d.log[dead ? 'error' : 'warn'](
      {
        ...failure.fields,
        conversation: keyRef(convKey),
        eventId,
        attempt,
        outcome: dead ? 'dead_letter' : 'retry',
        durationMs: failure.durationMs,
        err: errInfo(err),
      },
      dead ? 'message dead-lettered' : 'message processing failed; will retry',
    );
    if (dead) return 'next';
    this.d.retryLater(convKey, backoffMs);
    return 'stop';
  }
}
