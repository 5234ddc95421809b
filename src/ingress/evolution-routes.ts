import express, { Router, type Request } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { WebhookIngest } from '../conversations/ingest.js';
import { badPayload, AppError } from '../errors.js';
import { parseEvolutionBody } from '../evolution/parse-body.js';
import { verifyEvolutionWebhook } from '../evolution/webhook-auth.js';
import type { EvolutionMediaSource } from '../evolution/media-source.js';
import type { Db } from '../store/db.js';
import { findEvolutionLine, recordConnectionState, type EvolutionLine } from '../store/evolution-line-repository.js';
import type { InboundEvent } from '../webhook/inbound-event.js';

export interface EvolutionWebhookDeps {
  config: Config;
  db: Db;
  ingest: WebhookIngest;
  log: Logger;
  onAccepted?: (events: readonly InboundEvent[], ackMs: number, duplicates: number) => void;
  /** Media an Evolution message carried (URL or base64), handed over once its event is durable. */
  onMedia?: (media: ReadonlyMap<string, EvolutionMediaSource>) => Promise<void>;
}

export const EVOLUTION_PATHS = ['/webhook/evolution', '/webhook/evolution/:line'];

/** Line lookups are cached briefly: every webhook of a busy line would otherwise read the same row. */
/** Bounds the cache when many unknown line names are posted. */
const MAX_CACHED_LINES = 1_000;
const LINE_CACHE_MS = 5_000;

/**
 * POST /webhook/evolution/:line (or /webhook/evolution, the line taken from the payload's
 * `instance`): the line's secret → parse (Evolution's raw shape or n8n's flat one) → the same
 * journal as Cloud API batches → 200 once durable. Unknown line 404, missing credential 401, wrong
 * one 403, store down 503 + Retry-After (Evolution retries with backoff); nothing stored in any.
 */
export function evolutionRoutes(deps: EvolutionWebhookDeps): Router {
  const log = deps.log.child({ module: 'evolution-webhook' });
  const router = Router();
  const raw = express.raw({ type: () => true, limit: deps.config.WEBHOOK_BODY_LIMIT });
  // Misses are cached too: posts to an unknown line are answered 404 without a query each.
  const cache = new Map<string, { line: EvolutionLine | null; at: number }>();
  const lineFor = async (key: { code: string } | { instance: string }): Promise<EvolutionLine | null> => {
    const cacheKey = 'code' in key ? `c:${key.code}` : `i:${key.instance}`;
    const hit = cache.get(cacheKey);
    if (hit && Date.now() - hit.at < LINE_CACHE_MS) return hit.line;
    const line = await findEvolutionLine(deps.db, key);
    if (cache.size >= MAX_CACHED_LINES) cache.clear();
    cache.set(cacheKey, { line, at: Date.now() });
    return line;
  };

  router.post(EVOLUTION_PATHS, raw, async (req: Request<{ line?: string }>, res) => {
    const requestId = res.locals.requestId as string;
    const receivedAtMs = Date.now();
    const started = performance.now();
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const code = req.params.line;
    let json: Record<string, unknown> | null = null;
    if (code === undefined) {
      // No line in the path: the payload names its instance (checked against the secret below).
      json = parseObject(body);
      if (typeof json['instance'] !== 'string') throw badPayload('PAYLOAD_NOT_ENVELOPE', 'no instance in the payload');
    }
    const line = await lineFor(code !== undefined ? { code } : { instance: json!['instance'] as string });
    if (!line || !line.activo) throw new AppError('NOT_FOUND', 'no such Evolution line');
    verifyEvolutionWebhook(
      { authorization: req.header('authorization'), apikey: req.header('apikey') },
      line.webhook_secreto,
      Math.floor(receivedAtMs / 1000),
    );
    const { events, media, connection } = parseEvolutionBody(json ?? parseObject(body), body, {
      code: line.codigo,
      instance: line.instancia,
      receivedAtMs,
    });
    // The file's source first: its job (created when the message is processed) must find it.
    if (media.size > 0) await deps.onMedia?.(media);
    const result = await deps.ingest.ingest(events, requestId);
    if (connection !== null) {
      // Best effort: the event itself is already in the journal.
      await recordConnectionState(deps.db, line.codigo, connection).catch((err: Error) =>
        log.warn({ line: line.codigo, err: { message: err.message } }, 'connection state not recorded'),
      );
    }
    res.status(200).json({ received: events.length, stored: result.accepted, duplicates: result.duplicates });
    const ackMs = Math.round((performance.now() - started) * 10) / 10;
    log.debug(
      { requestId, line: line.codigo, events: events.length, stored: result.accepted, ackMs },
      'evolution webhook acknowledged',
    );
    deps.onAccepted?.(events, ackMs, result.duplicates);
    if (connection !== null) log.info({ line: line.codigo, connection }, 'Evolution instance connection state');
    result.afterAck?.();
  });
  return router;
}

function parseObject(body: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw badPayload('PAYLOAD_NOT_JSON', 'body is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw badPayload('PAYLOAD_NOT_ENVELOPE', 'not an object');
  return v as Record<string, unknown>;
}
