import type { Queryable } from '../db.js';
import { compareColumns, type ColumnFinding } from './expected-columns.js';
import { loadSchema, type Schema } from './introspect.js';
import { WAMID_INDEX_NAME, wamidIndexState, type WamidIndexState } from './wamid-index.js';

/** What in the CRM's database stops the router from keeping its guarantees. */
export type BlockerCode = 'WAMID_DUPLICATES' | 'REACTION_USER_NOT_NULL' | 'COLUMN_TYPE_MISMATCH';

export interface Blocker {
  code: BlockerCode;
  message: string;
}

export function blockersFrom(columns: readonly ColumnFinding[], wamid: WamidIndexState): Blocker[] {
  const blockers: Blocker[] = [];
  if (wamid.applicable && !wamid.creatable) {
    blockers.push({
      code: 'WAMID_DUPLICATES',
      message:
        `${wamid.duplicateGroups} whatsapp_message_id value(s) are stored on several mensajes rows, so the unique index ` +
        `${WAMID_INDEX_NAME} cannot exist and a redelivered message would be stored twice; run \`npm run migrate -- --fix\``,
    });
  }
  for (const f of columns) {
    if (f.problem === 'not_null' && f.table === 'mensaje_reacciones' && f.column === 'usuario_id') {
      blockers.push({
        code: 'REACTION_USER_NOT_NULL',
        message:
          'mensaje_reacciones.usuario_id is NOT NULL, but a customer reaction has no CRM user (the router writes NULL, ' +
          'CRM-CONTRACT §4); run `ALTER TABLE mensaje_reacciones ALTER COLUMN usuario_id DROP NOT NULL`',
      });
    } else if (f.problem === 'type' || f.problem === 'not_null') {
      blockers.push({
        code: 'COLUMN_TYPE_MISMATCH',
        message: `${f.table}.${f.column} is ${f.actual}${f.problem === 'not_null' ? ' NOT NULL' : ''}; the router expects ${f.expected.join(' or ')}${f.problem === 'not_null' ? ' (nullable)' : ''}`,
      });
    }
  }
  return blockers;
}

/**
 * The checks a router start runs before serving: only SELECTs against the catalogs, plus a scan for
 * duplicate wamids when no unique index rules them out. Empty = safe to start.
 */
export async function blockingChecks(db: Queryable, schema?: Schema): Promise<Blocker[]> {
  const s = schema ?? (await loadSchema(db));
  return blockersFrom(compareColumns(s), await wamidIndexState(db, s));
}
