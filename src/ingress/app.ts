import type { RequestListener } from 'node:http';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import { errorHandler } from './error-handler.js';
import { healthRoutes } from './health-routes.js';
import { requestId } from './request-id.js';
import type { WebhookIngest } from '../conversations/ingest.js';
import type { InboundEvent } from '../webhook/inbound-event.js';
import { webhookRoutes } from './webhook-routes.js';
import { withWebhookFastPath } from './webhook-fast-path.js';
import { evolutionRoutes } from './evolution-routes.js';
import type { EvolutionMediaSource } from '../evolution/media-source.js';
import { adminRoutes, type AdminDeps } from './admin-routes.js';
import { sandboxPageRoutes } from '../sandbox/sandbox-page-routes.js';
import { mediaRoutes } from './media-routes.js';
import { mediaLinkRoutes } from './media-link-routes.js';
import type { LocalMediaAccess } from '../media/create-media.js';
import type { RouterMetrics } from '../observability/metrics.js';
import type { GraphVersionStatus } from '../outbound/graph-version-status.js';
import { countWebhookOutcome } from '../observability/observers.js';
import { WEBHOOK_PATHS } from './webhook-routes.js';

export interface AppDeps {
  /** Admin API dependencies; the routes exist (and answer 404 without ADMIN_TOKEN) either way. */
  admin: AdminDeps;
  metrics: RouterMetrics;
  config: Config;
  db: Db;
  ingest: WebhookIngest;
  log: Logger;
  readinessChecks?: (() => Promise<string[]>)[];
  /** WHATSAPP_API_VERSION against Meta's expiry dates, for /ready. */
  graphVersion?: () => GraphVersionStatus;
  /** MEDIA_STORAGE=local: where the signed /media route serves files from. */
  media?: LocalMediaAccess | null;
  onAccepted?: (events: readonly InboundEvent[], ackMs: number, duplicates: number) => void;
  /** Evolution lines: media carried in (or linked from) a webhook, handed over once its event is durable. */
  onEvolutionMedia?: (media: ReadonlyMap<string, EvolutionMediaSource>) => Promise<void>;
}

/**
 * The HTTP surface, built from its dependencies so tests drive the real thing: Meta's webhook POSTs
 * on the fast path (webhook-fast-path.ts), everything else (and unusual webhook requests) on Express.
 */
export function buildApp(deps: AppDeps): RequestListener {
  return withWebhookFastPath(buildExpressApp(deps), {
    config: deps.config,
    ingest: deps.ingest,
    log: deps.log,
    metrics: deps.metrics,
    ...(deps.onAccepted ? { onAccepted: deps.onAccepted } : {}),
  });
}

/** The Express app: every route, webhook POSTs included (those the fast path leaves to it). */
export function buildExpressApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // No ETag: nothing here is cached by clients, and hashing every webhook answer costs CPU per request.
  app.set('etag', false);
  // Nginx in front sets X-Forwarded-For; trust exactly one hop (loopback).
  app.set('trust proxy', 'loopback');
  app.use(requestId);
  // Outcome of every webhook POST that reaches Express, counted when the response is done (whatever
  // route it took); the fast path counts its own the same way (webhook-fast-path.ts).
  app.use(WEBHOOK_PATHS, (req, res, next) => {
    if (req.method === 'POST') countWebhookOutcome(deps.metrics, res);
    next();
  });
  app.use(webhookRoutes(deps));
  app.use(
    evolutionRoutes({
      config: deps.config,
      db: deps.db,
      ingest: deps.ingest,
      log: deps.log,
      ...(deps.onAccepted ? { onAccepted: deps.onAccepted } : {}),
      ...(deps.onEvolutionMedia ? { onMedia: deps.onEvolutionMedia } : {}),
    }),
  );
  app.get('/metrics', async (_req, res) => {
    const { contentType, body } = await deps.metrics.render();
    res.type(contentType).send(body);
  });
  // The sandbox page itself asks for the token; its API is behind it (admin-routes.ts).
  app.use(sandboxPageRoutes(deps.config.ADMIN_TOKEN));
  app.use(adminRoutes(deps.admin));
  app.use(
    mediaLinkRoutes({
      db: deps.db,
      local: deps.media ?? null,
      waitMs: deps.config.MEDIA_LINK_WAIT_MS,
      log: deps.log.child({ module: 'media-route' }),
    }),
  );
  app.use(mediaRoutes(deps.media ?? null, deps.log.child({ module: 'media-route' })));
  app.use(
    healthRoutes({
      config: deps.config,
      db: deps.db,
      checks: deps.readinessChecks ?? [],
      graphVersion: deps.graphVersion,
    }),
  );
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: 'no such route' } });
  });
  app.use(errorHandler(deps.log));
  return app;
}
