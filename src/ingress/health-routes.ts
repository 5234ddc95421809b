import { Router } from 'express';
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';

export interface HealthDeps {
  config: Config;
  db: Db;
  /** Extra readiness checks contributed by other parts (queue, Graph circuit…). */
  checks?: (() => Promise<string[]>)[];
}

/** Liveness says the process answers; readiness says it can do its job right now. */
export function healthRoutes(deps: HealthDeps): Router {
  const router = Router();
  const startedAt = Date.now();

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok', uptimeS: Math.round((Date.now() - startedAt) / 1000) });
  });

  router.get('/ready', async (_req, res) => {
    const issues: string[] = [];
    try {
      await deps.db.ping();
    } catch {
      issues.push('database_unreachable');
    }
    if (!deps.config.WHATSAPP_ACCESS_TOKEN) issues.push('whatsapp_token_missing');
    for (const check of deps.checks ?? []) issues.push(...(await check().catch(() => ['check_failed'])));
    res.status(issues.length === 0 ? 200 : 503).json({ status: issues.length === 0 ? 'ok' : 'degraded', issues });
  });

  return router;
}
