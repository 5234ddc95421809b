import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { DeadLetterService } from '../conversations/dead-letters.js';
import type { ThresholdMonitor } from '../conversations/threshold-monitor.js';
import { AppError } from '../errors.js';
import { readinessReport, type ReadinessDeps } from '../ingress/readiness.js';
import type { CatalogCache } from '../routing/catalog-cache.js';
import { routerStats } from '../store/admin-repository.js';
import type { Db } from '../store/db.js';
import type { Pm2Channel } from './pm2-channel.js';

export interface Pm2ActionDeps {
  config: Config;
  db: Db;
  deadLetters: DeadLetterService;
  queueCounts: () => Promise<Record<string, number> | null>;
  catalog: CatalogCache;
  monitor: ThresholdMonitor;
  readiness: ReadinessDeps;
  log: Logger;
}

/** Names for `pm2 trigger psi-router <action>` (README "Operations"). */
export const PM2_ACTIONS = [
  'dead-letters',
  'dead-letters-replay',
  'queue-status',
  'reload-catalog',
  'readiness',
] as const;
export type Pm2Action = (typeof PM2_ACTIONS)[number];

/**
 * The daily operations that used to need an admin call, as PM2 actions. PM2 delivers a trigger to
 * every process of the app, so each answers for itself (replay runs in all of them; the database
 * hands each dead event to one). Every run is audited like an admin call: action, outcome, no data.
 */
export function registerPm2Actions(channel: Pm2Channel, deps: Pm2ActionDeps): void {
  const log = deps.log.child({ module: 'admin' });
  const handlers: Record<Pm2Action, (opts: unknown) => Promise<{ result: unknown; outcome: string }>> = {
    'dead-letters': async () => {
      const dead = await deps.deadLetters.list(1000);
      const result = {
        events: dead.events.length,
        jobs: dead.jobs.length,
        eventIds: dead.events.slice(0, 20).map((e) => e.id),
        jobIds: dead.jobs.slice(0, 20).map((j) => j.id),
      };
      return { result, outcome: `${result.events} events, ${result.jobs} jobs` };
    },
    'dead-letters-replay': async (opts) => {
      const ids = replayIds(opts);
      const eventIds = ids?.filter((id) => /^\d+$/.test(id));
      const jobIds = ids?.filter((id) => !/^\d+$/.test(id));
      const result = await deps.deadLetters.replay(
        ids === null
          ? { eventIds: null, jobIds: null }
          : {
              ...(eventIds && eventIds.length > 0 ? { eventIds } : {}),
              ...(jobIds && jobIds.length > 0 ? { jobIds } : {}),
            },
      );
      return { result, outcome: `replayed ${result.events} events, ${result.jobs} jobs` };
    },
    'queue-status': async () => {
      const [stats, queue] = await Promise.all([routerStats(deps.db), deps.queueCounts().catch(() => null)]);
      const t = deps.monitor.snapshot();
      const result = {
        mode: deps.config.QUEUE_MODE === 'bullmq' ? 'queue' : 'direct',
        queue,
        journal: stats.journal,
        outbox: stats.outbox,
        queueMode: t.queueModeRecommended ? 'recommended' : 'not needed',
        reasons: t.reasons,
      };
      return { result, outcome: 'ok' };
    },
    'reload-catalog': async () => {
      deps.catalog.invalidate();
      const catalog = await deps.catalog.get();
      const result = {
        menus: catalog.menus.size,
        areas: catalog.areas.size,
        lines: catalog.lines.size,
        courses: catalog.courses.length,
      };
      return { result, outcome: 'reloaded' };
    },
    readiness: async () => {
      const result = await readinessReport(deps.readiness);
      return { result, outcome: result.status };
    },
  };
  for (const name of PM2_ACTIONS) {
    channel.action(name, async (opts) => {
      const action = `pm2 trigger ${name}`;
      try {
        const { result, outcome } = await handlers[name](opts);
        log.info({ audit: true, action, target: null, outcome, via: 'pm2' }, 'admin action');
        return result;
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'INTERNAL';
        log.warn({ audit: true, action, target: null, outcome: 'failed', code, via: 'pm2' }, 'admin action failed');
        throw err;
      }
    });
  }
}

/** `pm2 trigger psi-router dead-letters-replay [all | id,id,…]`: no parameter means all. */
function replayIds(opts: unknown): string[] | null {
  if (opts === undefined || opts === null || opts === '' || opts === 'all') return null;
  if (typeof opts !== 'string') throw new AppError('VALIDATION_FAILED', 'give "all" or comma-separated ids');
  const ids = opts
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0 || ids.some((id) => !/^[\w.-]{1,80}$/.test(id))) {
    throw new AppError('VALIDATION_FAILED', 'give "all" or comma-separated event ids (digits) and job ids');
  }
  return ids;
}
