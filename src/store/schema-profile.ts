import type { Queryable } from './db.js';

/**
 * What the live database decides and the router must follow, read once at start by introspection
 * (the CRM's schema is partly only in the live database: contract §13). Never assumed.
 */
export interface SchemaProfile {
  /** A trigger on `mensajes` keeps `conversaciones.mensajes_no_leidos`: the router must not count too. */
  unreadByTrigger: boolean;
  /** Name of that trigger (for logs and `--check`). */
  unreadTrigger: string | null;
  /**
   * What `derivaciones.ticket_id` accepts: the ticket's uuid (`tickets.id`, what the old router wrote)
   * or its human id (`tickets.ticket_id`, when the column's foreign key points there).
   */
  derivationTicket: 'id' | 'ticket_id';
  /** SQL type of `derivaciones.ticket_id` and `audit_log.registro_id` (the writes cast to it). */
  derivationTicketType: 'uuid' | 'text';
  auditRecordType: 'uuid' | 'text';
}

export async function readSchemaProfile(db: Queryable): Promise<SchemaProfile> {
  const res = await db.query<{
    trigger: string | null;
    fk_column: string | null;
    ticket_type: string | null;
    audit_type: string | null;
  }>(`
    SELECT
      (SELECT t.tgname::text FROM pg_trigger t
         JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_proc p ON p.oid = t.tgfoid
        WHERE c.relname = 'mensajes' AND n.nspname = current_schema() AND NOT t.tgisinternal
          AND t.tgenabled <> 'D' AND p.prosrc ILIKE '%mensajes_no_leidos%'
        ORDER BY t.tgname LIMIT 1) AS trigger,
      (SELECT a2.attname::text FROM pg_constraint k
         JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
         JOIN pg_attribute a2 ON a2.attrelid = k.confrelid AND a2.attnum = k.confkey[1]
        WHERE k.contype = 'f' AND c.relname = 'derivaciones' AND n.nspname = current_schema()
          AND a.attname = 'ticket_id' LIMIT 1) AS fk_column,
      (SELECT data_type FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'derivaciones' AND column_name = 'ticket_id') AS ticket_type,
      (SELECT data_type FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'audit_log' AND column_name = 'registro_id') AS audit_type`);
  const row = res.rows[0];
  const ticketType = row?.ticket_type === 'uuid' ? 'uuid' : 'text';
  return {
    unreadByTrigger: Boolean(row?.trigger),
    unreadTrigger: row?.trigger ?? null,
    // The foreign key decides; without one a uuid column takes the uuid, a text column what the old router wrote (the uuid as text).
    derivationTicket: row?.fk_column === 'ticket_id' ? 'ticket_id' : 'id',
    derivationTicketType: ticketType,
    auditRecordType: row?.audit_type === 'uuid' ? 'uuid' : 'text',
  };
}
