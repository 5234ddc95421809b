import type { Queryable } from './db.js';

/**
 * Guarantees that depend on the CRM's data rather than on the schema. The router's idempotency
 * needs a unique index on wamids; production holds duplicates, so the index is created here only
 * when the data allows it, and `npm start` refuses to run while it cannot be (the operator runs
 * `npm run migrate -- --check`, then `--fix`).
 */
export interface DataBlocker {
  /** Stable name of the check, as `npm run migrate -- --check` prints it. */
  check: string;
  message: string;
}

export const WAMID_INDEX = 'mensajes_wamid_unico';

const WAMID_INDEX_SQL = `CREATE UNIQUE INDEX IF NOT EXISTS ${WAMID_INDEX} ON mensajes (whatsapp_message_id)
  WHERE whatsapp_message_id IS NOT NULL AND whatsapp_message_id <> ''`;

/** Creates what the data allows and returns what still blocks a guarantee (empty = ready). */
export async function enforceDataGuarantees(db: Queryable): Promise<DataBlocker[]> {
  const blockers: DataBlocker[] = [];
  const state = await db.query<{ has_index: boolean; dup_groups: number; reaction_user_required: boolean }>(`
    SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = '${WAMID_INDEX}') AS has_index,
           (SELECT count(*)::int FROM (SELECT 1 FROM mensajes
              WHERE whatsapp_message_id IS NOT NULL AND whatsapp_message_id <> ''
              GROUP BY whatsapp_message_id HAVING count(*) > 1) d) AS dup_groups,
           coalesce((SELECT is_nullable = 'NO' FROM information_schema.columns
              WHERE table_schema = current_schema() AND table_name = 'mensaje_reacciones' AND column_name = 'usuario_id'), false)
             AS reaction_user_required`);
  const s = state.rows[0]!;
  if (!s.has_index) {
    if (s.dup_groups === 0) await db.query(WAMID_INDEX_SQL);
    else {
      blockers.push({
        check: 'duplicate_wamids',
        message: `${s.dup_groups} WhatsApp message ids are stored more than once, so ${WAMID_INDEX} cannot be created and redeliveries could be stored twice`,
      });
    }
  }
  if (s.reaction_user_required) {
    blockers.push({
      check: 'reactions_usuario_id_not_null',
      message: 'mensaje_reacciones.usuario_id is NOT NULL, but a contact\'s reaction is stored with usuario_id NULL (contract §4)',
    });
  }
  return blockers;
}
