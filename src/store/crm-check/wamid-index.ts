import type { Queryable } from '../db.js';
import type { DuplicateGroup } from './duplicates.js';
import { uniqueWamidIndexes, type Schema, type UniqueWamidIndex } from './introspect.js';

/**
 * The index that makes a redelivered wamid a no-op (DESIGN §5, idempotency). Partial, because
 * production holds '' for "no id" on many rows (CRM-CONTRACT §14.1), and creatable only once the
 * duplicate wamids are merged (`npm run migrate -- --fix`).
 */
export const WAMID_INDEX_NAME = 'mensajes_wamid_unico';
export const WAMID_INDEX_DDL =
  `CREATE UNIQUE INDEX IF NOT EXISTS ${WAMID_INDEX_NAME} ON mensajes (whatsapp_message_id)` +
  ` WHERE whatsapp_message_id IS NOT NULL AND whatsapp_message_id <> ''`;

export interface WamidIndexState {
  /** mensajes has a whatsapp_message_id column at all. */
  applicable: boolean;
  /** A valid unique index that already guarantees one row per non-empty wamid (ours or a full one). */
  covering: UniqueWamidIndex | null;
  /** Duplicate groups; 0 without scanning when a covering index exists. */
  duplicateGroups: number;
  /** The index could be created now (no duplicates) or is not needed. */
  creatable: boolean;
}

const covers = (i: UniqueWamidIndex): boolean => i.valid && (!i.partial || i.name === WAMID_INDEX_NAME);

/**
 * Where the wamid stands. `groups` are the duplicate groups when the caller already has them;
 * otherwise they are counted — only when no covering index makes them impossible, so a router start
 * does not scan mensajes when the index is there.
 */
export async function wamidIndexState(
  q: Queryable,
  schema: Schema,
  groups?: DuplicateGroup[] | null,
): Promise<WamidIndexState> {
  if (!schema.has('mensajes', 'whatsapp_message_id'))
    return { applicable: false, covering: null, duplicateGroups: 0, creatable: false };
  const covering = (await uniqueWamidIndexes(q)).find(covers) ?? null;
  let duplicateGroups = 0;
  if (groups) duplicateGroups = groups.length;
  else if (!covering) {
    const res = await q.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM mensajes WHERE whatsapp_message_id IS NOT NULL AND whatsapp_message_id <> ''
         GROUP BY whatsapp_message_id HAVING count(*) > 1) d`,
    );
    duplicateGroups = res.rows[0]?.n ?? 0;
  }
  return { applicable: true, covering, duplicateGroups, creatable: covering !== null || duplicateGroups === 0 };
}
