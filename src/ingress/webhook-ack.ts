import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { WebhookIngest } from '../conversations/ingest.js';
import { TimeSlicer } from '../shared/time-slicer.js';
import { parseWebhookBodySliced } from '../webhook/parse-events.js';
import type { InboundEvent } from '../webhook/inbound-event.js';
import { verifySignature } from '../webhook/verify-signature.js';

export interface WebhookAckDeps {
  config: Config;
  ingest: WebhookIngest;
  /** The webhook module's logger. */
  log: Logger;
  /** Observer for metrics: the batch's events once acknowledged. */
  onAccepted?: (events: readonly InboundEvent[], ackMs: number, duplicates: number) => void;
}

/** Meta's 200 body for a durable batch. */
export interface WebhookAckBody {
  received: number;
  stored: number;
  duplicates: number;
}

export interface WebhookAck {
  body: WebhookAckBody;
  /** Logging, observers and the ingest's follow-up: to run once the 200 is written. */
  afterAnswer(): void;
}

/**
 * The POST /webhook core, whatever HTTP layer carries it (Express route or fast path): raw bytes →
 * signature → parse → durable (journal or Redis) → the 200 body. Throws AppError for the error answer.
 */
export function webhookAcknowledger(deps: WebhookAckDeps) {
  const { config, ingest, log } = deps;
  return async (body: Buffer, signature: string | undefined, requestId: string): Promise<WebhookAck> => {
    const receivedAtMs = Date.now();
    const started = performance.now();
    if (config.WHATSAPP_APP_SECRET.length > 0) verifySignature(body, signature, config.WHATSAPP_APP_SECRET);
    // A big batch is normalised in slices, so it cannot hold up the requests that arrive meanwhile.
    const events = await parseWebhookBodySliced(body, new TimeSlicer(), receivedAtMs);
    const result = await ingest.ingest(events, requestId);
    return {
      body: { received: events.length, stored: result.accepted, duplicates: result.duplicates },
      afterAnswer() {
        const ackMs = Math.round((performance.now() - started) * 10) / 10;
        // Per-request detail is debug: at volume the per-message line and /metrics carry what operators need.
        log.debug(
          {
            requestId,
            events: events.length,
            stored: result.accepted,
            duplicates: result.duplicates,
            transport: ingest.transport,
            ackMs,
          },
          'webhook batch acknowledged',
        );
        deps.onAccepted?.(events, ackMs, result.duplicates);
        for (const event of events) {
          if (event.kind === 'error')
            log.warn({ requestId, field: event.field, errors: event.errors }, 'Meta reported webhook errors');
          if (event.kind === 'other')
            log.info({ requestId, field: event.field, reason: event.reason }, 'event kept without processing');
        }
        result.afterAck?.();
      },
    };
  };
}
