import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { loadCatalogRows } from '../store/catalog-repository.js';
import type { Queryable } from '../store/db.js';

/**
 * Production refuses to start while an active area posts to an inbox URL and INBOX_WEBHOOK_SECRET
 * is unset: n8n would receive customer data it cannot tell from a forgery. The URLs live in the
 * database (router_areas, edited by the CRM), so this runs after migrations rather than in config.ts.
 */
export async function assertInboxSecret(config: Config, db: Queryable): Promise<void> {
  if (config.NODE_ENV !== 'production' || config.INBOX_WEBHOOK_SECRET) return;
  const areas = (await loadCatalogRows(db)).areas.filter((a) => Boolean(a.inboxUrl));
  if (areas.length === 0) return;
  throw new AppError(
    'INBOX_SECRET_MISSING',
    `INBOX_WEBHOOK_SECRET: is required when NODE_ENV=production and an area has an inbox URL (router_areas: ${areas.map((a) => a.id).join(', ')})`,
    { details: { areas: areas.map((a) => a.id) } },
  );
}
