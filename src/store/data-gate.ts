import { blockingChecks, type Blocker } from './crm-check/blocking-checks.js';
import { loadSchema } from './crm-check/introspect.js';
import { WAMID_INDEX_DDL, wamidIndexState } from './crm-check/wamid-index.js';
import type { Queryable } from './db.js';

/**
 * Guarantees that depend on the CRM's data rather than on the schema. The router's idempotency
 * needs a unique index on wamids; production holds duplicates, so the index is created here only
 * when the data allows it (an empty database, or after `npm run migrate -- --fix`), and `npm start`
 * refuses to run while something still blocks a guarantee (crm-check/blocking-checks.ts).
 */
export async function enforceDataGuarantees(db: Queryable): Promise<Blocker[]> {
  const schema = await loadSchema(db);
  const wamid = await wamidIndexState(db, schema);
  if (wamid.applicable && !wamid.covering && wamid.creatable) await db.query(WAMID_INDEX_DDL);
  // The catalog read once serves both; the wamid index is looked up live (it may be new).
  return blockingChecks(db, schema);
}
