import express, { Router } from 'express';
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
import { listLines, upsertLine } from '../store/line-repository.js';
import type { CatalogCache } from '../routing/catalog-cache.js';
import type { FlowClock } from '../conversations/flow-clock.js';
import { DEFAULT_LINE_SETTINGS, type LineSettings } from '../routing/types.js';
import { sandboxApiRoutes } from '../sandbox/sandbox-api-routes.js';
import { adminAudit } from './admin-audit.js';
import { adminAuth } from './admin-auth.js';
import { evolutionLineFields, evolutionLineUpsert } from './evolution-line-fields.js';
import { parseInput } from './parse-input.js';

export interface AdminDeps {
  config: Config;
  db: Db;
  processor: DirectProcessor;
  monitor: ThresholdMonitor;
  deadLetters: DeadLetterService;
  sender: AdminSender;
  queueCounts: () => Promise<Record<string, number> | null>;
  /** Line edits take effect at once in this process (others reload within CATALOG_TTL_MS). */
  catalog: CatalogCache;
  /** The flows' clock, shifted by tests (PUT /admin/clock; refused in production). */
  clock?: FlowClock;
  log: Logger;
}

const settingKeys = Object.keys(DEFAULT_LINE_SETTINGS) as (keyof LineSettings)[];

/** PUT /admin/lines/:codigo — the CRM's line code is the key; the body describes the number. */
const lineSchema = z
  .object({
    nombre: z.string().trim().min(1).max(100),
    tipo: z.enum(['cloud', 'evolution']).default('cloud'),
    phoneNumberId: z
      .string()
      .regex(/^\d{5,20}$/, 'must be the Cloud API phone_number_id (digits)')
      .nullable()
      .optional(),
    flujo: z.enum(['menu', 'ads', 'inbox']).default('menu'),
    ajustes: z
      .partialRecord(z.enum(settingKeys as [keyof LineSettings, ...(keyof LineSettings)[]]), z.boolean())
      .default({}),
    activo: z.boolean().default(true),
    ...evolutionLineFields,
  })
  .strict()
  .refine((v) => v.tipo !== 'cloud' || Boolean(v.phoneNumberId), {
    message: 'a cloud line needs phoneNumberId',
    path: ['phoneNumberId'],
  })
  .refine((v) => v.tipo !== 'evolution' || Boolean(v.instancia), {
    message: 'an evolution line needs instancia (the Evolution instance name)',
    path: ['instancia'],
  })
  .refine((v) => v.tipo !== 'evolution' || v.flujo === 'inbox', {
    // Menus and the ads funnel are interactive lists and buttons, a Cloud API feature WhatsApp Web lacks.
    message: 'an evolution line runs the inbox flow',
    path: ['flujo'],
  })
  .refine((v) => v.tipo !== 'evolution' || !v.phoneNumberId, {
    message: 'an evolution line has no Cloud API phoneNumberId',
    path: ['phoneNumberId'],
  });
const lineCode = z.string().regex(/^[a-z0-9_]{1,40}$/, 'must be a CRM line code such as wsp4 (a-z, 0-9, _)');

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

  const audit = adminAudit(log);
  // The sandbox page's API (/admin/sandbox/api/*) sits behind the same token.
  router.use(sandboxApiRoutes({ config: deps.config, db: deps.db, audit }));

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
    const id = parseInput(uuid, req.params.id);
    const done = await resetConversation(deps.db, id, deps.config.MAIN_MENU_ID);
    if (!done) throw new AppError('NOT_FOUND', 'no such conversation');
    audit(req, res, id, 'reset');
    res.json({ id, estado: 'activa', router_estado: 'menu_principal' });
  });

  router.post('/admin/conversations/:id/close', async (req, res) => {
    const id = parseInput(uuid, req.params.id);
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

  // Tests only: where the autoreplies' clock stands (offset from the messages' own time).
  router.put('/admin/clock', (req, res) => {
    if (deps.config.NODE_ENV === 'production' || !deps.clock)
      throw new AppError('NOT_FOUND', 'the clock switch exists only outside production');
    const body = parseInput(z.object({ offsetMs: z.number().int() }), req.body);
    deps.clock.set(body.offsetMs);
    deps.catalog.invalidate();
    audit(req, res, null, `offset ${body.offsetMs}`);
    res.json({ offsetMs: deps.clock.offsetMs });
  });

  router.get('/admin/lines', async (req, res) => {
    res.json({ lines: await listLines(deps.db) });
    audit(req, res, null, 'listed');
  });

  router.put('/admin/lines/:codigo', async (req, res) => {
    const codigo = parseInput(lineCode, req.params.codigo);
    const body = parseInput(lineSchema, req.body);
    try {
      const { row, created } = await upsertLine(deps.db, {
        codigo,
        nombre: body.nombre,
        tipo: body.tipo,
        flujo: body.flujo,
        ajustes: body.ajustes,
        activo: body.activo,
        ...evolutionLineUpsert(codigo, body),
      });
      deps.catalog.invalidate();
      audit(req, res, codigo, created ? 'created' : 'updated');
      res.status(created ? 201 : 200).json({ line: row });
    } catch (err) {
      if ((err as { code?: string }).code === 'DB_DUPLICATE' || (err as { code?: string }).code === '23505') {
        throw new AppError('DB_DUPLICATE', 'that phoneNumberId or instancia already belongs to another line');
      }
      throw err;
    }
  });

  router.get('/admin/dead-letters', async (req, res) => {
    const limit = parseInput(z.coerce.number().int().min(1).max(1000).default(100), req.query['limit']);
    res.json(await deps.deadLetters.list(limit));
    audit(req, res, null, 'listed');
  });

  router.post('/admin/dead-letters/replay', async (req, res) => {
    const body = parseInput(replaySchema, req.body);
    const result = await deps.deadLetters.replay({
      ...(body.events !== undefined ? { eventIds: body.events === 'all' ? null : body.events } : {}),
      ...(body.jobs !== undefined ? { jobIds: body.jobs === 'all' ? null : body.jobs } : {}),
    });
    audit(req, res, null, `replayed ${result.events} events, ${result.jobs} jobs`);
    res.json(result);
  });

  return router;
}
