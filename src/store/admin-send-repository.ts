import type { Queryable } from './db.js';

export interface AdminSendInput {
  /** Existing conversation, or a phone (digits) + line to find or create one. */
  conversationId: string | null;
  phoneDigits: string | null;
  line: string | null;
  /** Graph body without `to` (filled in from the conversation). */
  body: Record<string, unknown>;
  preview: string;
  tipo: string;
  /** Free-form messages need an open customer-service window; templates do not. */
  requiresWindow: boolean;
  agentName: string | null;
  idempotencyKey: string | null;
}

export type AdminSendResult =
  | { status: 'queued' | 'duplicate'; messageId: string; conversationId: string }
  | { status: 'outside_window'; messageId: string; conversationId: string; windowEnd: string | null }
  | { status: 'not_found' };

/**
 * A message the CRM sends through the router, in one statement: find (or, for a phone + line,
 * create) the contact and conversation, store the `saliente` row (remitente_tipo 'agente') and queue
 * it in the outbox — or, for free-form text outside the 24 h window, store it as `fallido` with the
 * reason and queue nothing. An idempotency key returns the first result instead of sending twice.
 */
export async function queueAdminMessage(db: Queryable, input: AdminSendInput): Promise<AdminSendResult> {
  const res = await db.query<{ status: string; message_id: string | null; conversation_id: string | null; window_end: string | null }>(
    `WITH i AS (SELECT $1::jsonb AS j),
     prior AS (
       SELECT m.id, m.conversacion_id FROM mensajes m, i
        WHERE i.j->>'idempotencyKey' IS NOT NULL AND m.metadata->>'idempotency_key' = i.j->>'idempotencyKey'
     ),
     c_new AS (
       INSERT INTO contactos AS c (telefono, origen)
       SELECT '+' || (i.j->>'phoneDigits'), 'crm' FROM i
        WHERE i.j->>'conversationId' IS NULL AND i.j->>'phoneDigits' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM prior)
       ON CONFLICT (telefono) DO UPDATE SET telefono = c.telefono
       RETURNING c.id
     ),
     cv_new AS (
       INSERT INTO conversaciones AS cv (contacto_id, telefono, linea_origen, estado)
       SELECT c_new.id, '+' || (i.j->>'phoneDigits'), i.j->>'line', 'activa' FROM c_new, i
       ON CONFLICT (contacto_id, linea_origen) DO UPDATE SET updated_at = cv.updated_at
       RETURNING cv.id, cv.telefono, cv.linea_origen, cv.ventana_24h_fin, cv.ventana_72h_fin, cv.contacto_id
     ),
     conv AS (
       SELECT cv.id, cv.telefono, cv.linea_origen, cv.ventana_24h_fin, cv.ventana_72h_fin, cv.contacto_id
         FROM conversaciones cv, i WHERE cv.id = (i.j->>'conversationId')::uuid AND NOT EXISTS (SELECT 1 FROM prior)
       UNION ALL SELECT * FROM cv_new
     ),
     target AS (
       -- A contact created by this statement is not visible to its own joins: fall back to the input.
       SELECT conv.*, coalesce(ct.telefono, '+' || (i.j->>'phoneDigits')) AS contact_phone, ct.wa_user_id,
              greatest(conv.ventana_24h_fin, conv.ventana_72h_fin) AS window_end,
              (NOT (i.j->>'requiresWindow')::boolean OR greatest(conv.ventana_24h_fin, conv.ventana_72h_fin) > now()) AS allowed
         FROM conv LEFT JOIN contactos ct ON ct.id = conv.contacto_id, i
        LIMIT 1
     ),
     msg AS (
       INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, remitente_nombre, estado_envio, error_texto, metadata, "timestamp")
       SELECT t.id, i.j->>'preview', i.j->>'tipo', 'saliente', 'agente', i.j->>'agentName',
              CASE WHEN t.allowed THEN 'pendiente' ELSE 'fallido' END,
              CASE WHEN t.allowed THEN NULL ELSE 'outside_24h_window: free-form message refused; use a template' END,
              jsonb_strip_nulls(jsonb_build_object('idempotency_key', i.j->>'idempotencyKey', 'origen', 'admin_api')),
              now()
         FROM target t, i
       ON CONFLICT ((metadata->>'idempotency_key')) WHERE metadata ? 'idempotency_key' DO NOTHING
       RETURNING id, conversacion_id
     ),
     ob AS (
       INSERT INTO router_outbox (canal, mensaje_id, conversacion_id, linea, destinatario, orden_key, payload)
       SELECT 'whatsapp', msg.id, t.id, t.linea_origen, coalesce(ltrim(t.contact_phone, '+'), t.wa_user_id),
              'wa:' || t.linea_origen || ':' || coalesce(ltrim(t.contact_phone, '+'), t.wa_user_id),
              (i.j->'body') || jsonb_build_object('to', coalesce(ltrim(t.contact_phone, '+'), t.wa_user_id))
         FROM msg, target t, i WHERE t.allowed
       RETURNING id
     )
     SELECT CASE
              WHEN EXISTS (SELECT 1 FROM prior) THEN 'duplicate'
              WHEN NOT EXISTS (SELECT 1 FROM target) THEN 'not_found'
              WHEN (SELECT allowed FROM target) THEN 'queued'
              ELSE 'outside_window' END AS status,
            coalesce((SELECT id FROM prior), (SELECT id FROM msg)) AS message_id,
            coalesce((SELECT conversacion_id FROM prior), (SELECT id FROM target)) AS conversation_id,
            (SELECT window_end FROM target)::text AS window_end`,
    [JSON.stringify(input)],
  );
  const row = res.rows[0];
  if (!row || row.status === 'not_found' || !row.conversation_id) return { status: 'not_found' };
  // A concurrent request with the same idempotency key won the insert: this one is its duplicate.
  if (!row.message_id) return { status: 'duplicate', messageId: '', conversationId: row.conversation_id };
  if (row.status === 'outside_window') return { status: 'outside_window', messageId: row.message_id, conversationId: row.conversation_id, windowEnd: row.window_end };
  return { status: row.status as 'queued' | 'duplicate', messageId: row.message_id, conversationId: row.conversation_id };
}
