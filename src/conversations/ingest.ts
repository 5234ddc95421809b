import type { InboundEvent } from '../webhook/inbound-event.js';
import type { Db } from '../store/db.js';
import { JournalBatcher } from '../store/journal-batcher.js';
import type { DirectProcessor } from './direct-processor.js';

export interface IngestResult {
  /** Events made durable now (journal rows, or queue jobs). */
  accepted: number;
  /** Events already known (redeliveries); only the journal can tell. */
  duplicates: number;
  /** Runs after the 200 went out (hand the events to processing). */
  afterAck?: () => void;
}

/** What the webhook does with a verified, parsed batch before answering 200. */
export interface WebhookIngest {
  readonly transport: 'journal' | 'queue';
  ingest(events: readonly InboundEvent[], requestId: string): Promise<IngestResult>;
}

/**
 * Direct mode: the batch into the journal, then in-process processing. Requests that arrive while
 * the journal is busy share one INSERT (journal-batcher.ts); each is answered once its rows commit.
 */
export function journalIngest(db: Db, processor: DirectProcessor, batcher = new JournalBatcher(db)): WebhookIngest {
  return {
    transport: 'journal',
    async ingest(events, requestId) {
      const result = await batcher.append(events, requestId);
      return {
        accepted: result.inserted.length,
        duplicates: result.duplicates,
        afterAck: () => processor.enqueue(result.pending),
      };
    },
  };
}
