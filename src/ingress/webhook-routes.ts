import express, { Router } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { WebhookIngest } from '../conversations/ingest.js';
import { safeEqual } from '../webhook/verify-signature.js';
import type { InboundEvent } from '../webhook/inbound-event.js';
import { webhookAcknowledger } from './webhook-ack.js';

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
  const { config } = deps;
  const log = deps.log.child({ module: 'webhook' });
  const router = Router();
  // Raw bytes for every content type: the signature covers the exact body, and Meta's
  // Content-Type is not something to trust before the signature is checked.
  const raw = express.raw({ type: () => true, limit: config.WEBHOOK_BODY_LIMIT });
  const acknowledge = webhookAcknowledger({ ...deps, log });

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
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const ack = await acknowledge(body, req.header('x-hub-signature-256'), res.locals.requestId as string);
    res.status(200).json(ack.body);
    ack.afterAnswer();
  });

  return router;
}
