import { Router } from 'express';
import { readinessReport, type ReadinessDeps } from './readiness.js';

export type HealthDeps = ReadinessDeps;

/** Liveness says the process answers; readiness says it can do its job right now. */
export function healthRoutes(deps: HealthDeps): Router {
  const router = Router();
  const startedAt = Date.now();

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok', uptimeS: Math.round((Date.now() - startedAt) / 1000) });
  });

  router.get('/ready', async (_req, res) => {
    const report = await readinessReport(deps);
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  });

  return router;
}
