import express, { Router } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { Db } from '../store/db.js';
import { appendToJournal } from '../store/journal-repository.js';
import { safeEqual, verifySignature } from '../webhook/verify-signature.js';
import { parseWebhookBody } from '../webhook/parse-events.js';
import type { InboundEvent } from '../webhook/inbound-event.js';

export interface WebhookSink {
  /** Hands freshly journalled events to processing (direct mode); must not throw. */
  enqueue(inserted: readonly { id: string; kind: string; convKey: string | null }[]): void;
}

export interface WebhookDeps {
  config: Config;
  db: Db;
  sink: WebhookSink;
  log: Logger;
  onEvents?: (events: readonly InboundEvent[], outcome: string) => void;
}

/** Meta points its app at /webhook/whatsapp; new setups use /webhook. Both verbs answer on both. */
export const WEBHOOK_PATHS = ['/webhook', '/webhook/whatsapp'];

/**
 * GET: Meta's subscription handshake. POST: raw bytes → signature → parse → journal (durable) → 200.
 * Only after the journal insert returns does Meta get its 200; if the store is down it gets 503 and
 * retries, which is the safety net we rely on.
 */
export function webhookRoutes(deps: WebhookDeps): Router {
  const { config, db, sink } = deps;
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
    const started = performance.now();
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (config.WHATSAPP_APP_SECRET.length > 0) {
      verifySignature(body, req.header('x-hub-signature-256'), config.WHATSAPP_APP_SECRET);
    }
    const events = parseWebhookBody(body);
    const result = await appendToJournal(db, events, requestId);
    res.status(200).json({ received: events.length, stored: result.inserted.length, duplicates: result.duplicates });
    log.info(
      { requestId, events: events.length, stored: result.inserted.length, duplicates: result.duplicates, ackMs: Math.round((performance.now() - started) * 10) / 10 },
      'webhook batch acknowledged',
    );
    for (const event of events) {
      if (event.kind === 'error') log.warn({ requestId, field: event.field, errors: event.errors }, 'Meta reported webhook errors');
      if (event.kind === 'other') log.info({ requestId, field: event.field, reason: event.reason }, 'event kept without processing');
    }
    sink.enqueue(result.inserted);
  });

  return router;
}
