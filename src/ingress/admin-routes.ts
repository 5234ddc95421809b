import express, { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { DeadLetterService } from '../conversations/dead-letters.js';
import type { DirectProcessor } from '../conversations/direct-processor.js';
import type { ThresholdMonitor } from '../conversations/threshold-monitor.js';
import { AppError } from '../errors.js';
import type { AdminSender } from '../outbound/admin-sender.js';
import type { Db } from '../store/db.js';
import { closeConversation, resetConversation, routerStats } from '../store/admin-repository.js';
import { adminAuth } from './admin-auth.js';

export interface AdminDeps {
  config: Config;
  db: Db;
  processor: DirectProcessor;
  monitor: ThresholdMonitor;
  deadLetters: DeadLetterService;
  sender: AdminSender;
  queueCounts: () => Promise<Record<string, number> | null>;
  log: Logger;
}

const uuid = z.uuid('must be a conversation uuid');

const replaySchema = z
  .object({
    events: z.union([z.literal('all'), z.array(z.string().regex(/^\d+$/)).min(1)]).optional(),
    jobs: z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]).optional(),
  })
  .refine((v) => v.events !== undefined || v.jobs !== undefined, 'give events and/or jobs ("all" or a list of ids)');

/**
 * /admin/*: operator and CRM actions. Thin handlers: validate → call one function → shape the
 * answer; every call is audited in the log (action, target, outcome — never the token or the text).
 */
export function adminRoutes(deps: AdminDeps): Router {
  const log = deps.log.child({ module: 'admin' });
  const router = Router();
  const startedAt = Date.now();
  router.use('/admin', adminAuth(deps.config.ADMIN_TOKEN, log), express.json({ limit: '64kb' }));

  const audit = (req: Request, res: Response, target: string | null, outcome: string) =>
    log.info({ audit: true, action: `${req.method} ${req.route?.path ?? req.path}`, target, outcome, ip: req.ip, requestId: res.locals.requestId }, 'admin action');

  router.get('/admin/stats', async (req, res) => {
    const [db, queue] = await Promise.all([routerStats(deps.db), deps.queueCounts().catch(() => null)]);
    res.json({
      uptimeS: Math.round((Date.now() - startedAt) / 1000),
      mode: deps.config.QUEUE_MODE === 'bullmq' ? 'queue' : 'direct',
      inFlight: deps.processor.stats(),
      sender: deps.sender.stats(),
      thresholds: deps.monitor.snapshot(),
      queue,
      ...db,
    });
    audit(req, res, null, 'ok');
  });

  router.post('/admin/conversations/:id/reset', async (req, res) => {
    const id = parse(uuid, req.params.id);
    const done = await resetConversation(deps.db, id, deps.config.MAIN_MENU_ID);
    if (!done) throw new AppError('NOT_FOUND', 'no such conversation');
    audit(req, res, id, 'reset');
    res.json({ id, estado: 'activa', router_estado: 'menu_principal' });
  });

  router.post('/admin/conversations/:id/close', async (req, res) => {
    const id = parse(uuid, req.params.id);
    const done = await closeConversation(deps.db, id);
    if (!done) throw new AppError('NOT_FOUND', 'no such conversation');
    audit(req, res, id, 'closed');
    res.json({ id, estado: 'cerrada' });
  });

  router.post('/admin/messages', async (req, res) => {
    const idempotencyKey = req.header('idempotency-key') ?? null;
    const result = await deps.sender.send(req.body, idempotencyKey);
    audit(req, res, result.conversationId, result.status);
    res.status(result.status === 'queued' ? 202 : 200).json(result);
  });

  router.get('/admin/dead-letters', async (req, res) => {
    const limit = parse(z.coerce.number().int().min(1).max(1000).default(100), req.query['limit']);
    res.json(await deps.deadLetters.list(limit));
    audit(req, res, null, 'listed');
  });

  router.post('/admin/dead-letters/replay', async (req, res) => {
    const body = parse(replaySchema, req.body);
    const result = await deps.deadLetters.replay({
      ...(body.events !== undefined ? { eventIds: body.events === 'all' ? null : body.events } : {}),
      ...(body.jobs !== undefined ? { jobIds: body.jobs === 'all' ? null : body.jobs } : {}),
    });
    audit(req, res, null, `replayed ${result.events} events, ${result.jobs} jobs`);
    res.json(result);
  });

  return router;
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new AppError('VALIDATION_FAILED', result.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; '));
  }
  return result.data;
}
