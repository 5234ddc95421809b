import express, { Router } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { WebhookIngest } from '../conversations/ingest.js';
import { safeEqual, verifySignature } from '../webhook/verify-signature.js';
import { TimeSlicer } from '../shared/time-slicer.js';
import { parseWebhookBodySliced } from '../webhook/parse-events.js';
import type { InboundEvent } from '../webhook/inbound-event.js';

export interface WebhookDeps {
  config: Config;
  ingest: WebhookIngest;
  log: Logger;
  /** Observer for metrics: the batch's events once acknowledged. */
  onAccepted?: (events: readonly InboundEvent[], ackMs: number, duplicates: number) => void;
}

/** Meta points its app at /webhook/whatsapp; new setups use /webhook. Both verbs answer on both. */
export const WEBHOOK_PATHS = ['/webhook', '/webhook/whatsapp'];

/**
 * GET: Meta's subscription handshake. POST: raw bytes → signature → parse → durable (journal in
 * direct mode, Redis in queue mode) → 200. Only once the batch is durable does Meta get its 200; if
 * the store or queue is down it gets 503 and retries, which is the safety net we rely on.
 */
export function webhookRoutes(deps: WebhookDeps): Router {
  const { config, ingest } = deps;
  const log = deps.log.child({ module: 'webhook' });
  const router = Router();
  // Raw bytes for every content type: the signature covers the exact body, and Meta's
  // Content-Type is not something to trust before the signature is checked.
  const raw = express.raw({ type: () => true, limit: config.WEBHOOK_BODY_LIMIT });

  router.get(WEBHOOK_PATHS, (req, res) => {
    const mode = typeof req.query['hub.mode'] === 'string' ? req.query['hub.mode'] : '';
    const token = typeof req.query['hub.verify_token'] === 'string' ? req.query['hub.verify_token'] : '';
    const challenge = typeof req.query['hub.challenge'] === 'string' ? req.query['hub.challenge'] : '';
    const expected = config.WHATSAPP_VERIFY_TOKEN;
    if (mode === 'subscribe' && expected !== undefined && safeEqual(token, expected)) {
      log.info({ requestId: res.locals.requestId }, 'webhook verification accepted');
      res.status(200).type('text/plain').send(challenge);
      return;
    }
    throw new AppError('VERIFY_TOKEN_MISMATCH', 'hub.mode or hub.verify_token is wrong');
  });

  router.post(WEBHOOK_PATHS, raw, async (req, res) => {
    const requestId = res.locals.requestId as string;
    const receivedAtMs = Date.now();
    const started = performance.now();
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (config.WHATSAPP_APP_SECRET.length > 0) {
      verifySignature(body, req.header('x-hub-signature-256'), config.WHATSAPP_APP_SECRET);
    }
    // A big batch is normalised in slices, so it cannot hold up the requests that arrive meanwhile.
    const events = await parseWebhookBodySliced(body, new TimeSlicer(), receivedAtMs);
    const result = await ingest.ingest(events, requestId);
    res.status(200).json({ received: events.length, stored: result.accepted, duplicates: result.duplicates });
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
  });

  return router;
}
