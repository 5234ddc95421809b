import type { ContextResult } from '../store/context-query.js';
import type { RoutingWrites } from '../store/routing-writes.js';

export type ProcessingContext = Extract<ContextResult, { status: 'event' }>;

/**
 * What processing a message decided: its writes, as data, which the store commits atomically with
 * marking the event done (store/completion-statement.ts), plus a label for the per-message log line.
 */
export interface CommitPlan {
  outcome: string;
  writes?: RoutingWrites;
  /** Runs after the statement committed (e.g. wake the outbox sender). */
  afterCommit?: () => void;
}

/** The routing step: given the stored message and its conversation, decide what to write/send. */
export interface MessageHandler {
  handle(ctx: ProcessingContext): Promise<CommitPlan>;
}
