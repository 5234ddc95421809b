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

export interface AppDeps {
  config: Config;
  db: Db;
  ingest: WebhookIngest;
  log: Logger;
  readinessChecks?: (() => Promise<string[]>)[];
  onAccepted?: (events: readonly InboundEvent[], ackMs: number, duplicates: number) => void;
}

/** The HTTP surface, built from its dependencies so tests drive the real thing. */
export function buildApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Nginx in front sets X-Forwarded-For; trust exactly one hop (loopback).
  app.set('trust proxy', 'loopback');
  app.use(requestId);
  app.use(webhookRoutes(deps));
  app.use(healthRoutes({ config: deps.config, db: deps.db, checks: deps.readinessChecks ?? [] }));
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: 'no such route' } });
  });
  app.use(errorHandler(deps.log));
  return app;
}
