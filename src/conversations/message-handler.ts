import type { ContextResult } from '../store/context-query.js';

export type ProcessingContext = Extract<ContextResult, { status: 'event' }>;

/**
 * What processing a message decided, as extra writes for the completion statement (they commit
 * atomically with marking the event done), plus a label for the per-message log line.
 */
export interface CommitPlan {
  outcome: string;
  extraCtes?: string;
  extraParams?: unknown[];
  /** Runs after the statement committed (e.g. wake the outbox sender). */
  afterCommit?: () => void;
}

/** The routing step: given the stored message and its conversation, decide what to write/send. */
export interface MessageHandler {
  handle(ctx: ProcessingContext): Promise<CommitPlan>;
}
