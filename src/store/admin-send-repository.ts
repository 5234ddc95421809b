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
  /** Hash of the request, kept next to the key (metadata.request_hash) to tell a retry from a reuse. */
  requestHash: string | null;
}

export type AdminSendResult =
  | { status: 'queued' | 'duplicate'; messageId: string; conversationId: string }
  | { status: 'outside_window'; messageId: string; conversationId: string; windowEnd: string | null }
  | { status: 'key_reused'; messageId: string; conversationId: string }
  | { status: 'not_found' };

/**
 * A message the CRM sends through the router, in one statement: find (or, for a phone + line,
 * create) the contact and conversation, store the `saliente` row (remitente_tipo 'agente') and queue
 * it in the outbox — or, for free-form text outside the 24 h window, store it as `fallido` with the
 * reason and queue nothing. An idempotency key returns the first result instead of sending twice,
 * when the request is the same (metadata.request_hash); with a different one it is `key_reused`.
 */
export async function queueAdminMessage(db: Queryable, input: AdminSendInput): Promise<AdminSendResult> {
  const res = await db.query<{
    status: string;
    message_id: string | null;
    conversation_id: string | null;
    window_end: string | null;
  }>(
    `WITH i AS (SELECT $1::jsonb AS j),
     prior AS (
       SELECT m.id, m.conversacion_id, k.request_hash FROM router_idempotencia k JOIN mensajes m ON m.id = k.mensaje_id, i
        WHERE i.j->>'idempotencyKey' IS NOT NULL AND k.clave = i.j->>'idempotencyKey'
     ),
     c_found AS (
       SELECT c.id FROM contactos c, i
        WHERE i.j->>'conversationId' IS NULL AND i.j->>'phoneDigits' IS NOT NULL
          AND c.telefono = ANY (router_telefono_variantes(i.j->>'phoneDigits'))
        ORDER BY (c.telefono = '+' || (i.j->>'phoneDigits')) DESC, c.created_at LIMIT 1
     ),
     c_new AS (
       INSERT INTO contactos AS c (telefono, origen)
       SELECT '+' || (i.j->>'phoneDigits'), 'crm' FROM i
        WHERE i.j->>'conversationId' IS NULL AND i.j->>'phoneDigits' IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM prior) AND NOT EXISTS (SELECT 1 FROM c_found)
       RETURNING c.id
     ),
     contact AS (SELECT id FROM c_found UNION ALL SELECT id FROM c_new LIMIT 1),
     cv_found AS (
       SELECT cv.id, cv.telefono, cv.linea_origen, cv.ventana_24h_fin, cv.ventana_72h_fin, cv.contacto_id
         FROM conversaciones cv, i
        WHERE cv.contacto_id = (SELECT id FROM contact) AND cv.linea_origen = i.j->>'line'
        ORDER BY cv.ts_ultimo_mensaje DESC NULLS LAST, cv.created_at DESC LIMIT 1
     ),
     cv_new AS (
       -- As the CRM's own "Nuevo chat" writes it (CP:272): origen 'crm', no iniciado_por (its domain is 'usuario').
       INSERT INTO conversaciones AS cv (contacto_id, telefono, linea_origen, area, estado, canal, origen)
       SELECT contact.id, '+' || (i.j->>'phoneDigits'), i.j->>'line', i.j->>'line', 'activa', 'whatsapp', 'crm'
         FROM contact, i
        WHERE NOT EXISTS (SELECT 1 FROM cv_found) AND NOT EXISTS (SELECT 1 FROM prior)
       RETURNING cv.id, cv.telefono, cv.linea_origen, cv.ventana_24h_fin, cv.ventana_72h_fin, cv.contacto_id
     ),
     conv AS (
       SELECT cv.id, cv.telefono, cv.linea_origen, cv.ventana_24h_fin, cv.ventana_72h_fin, cv.contacto_id
         FROM conversaciones cv, i WHERE cv.id = (i.j->>'conversationId')::uuid AND NOT EXISTS (SELECT 1 FROM prior)
       UNION ALL SELECT * FROM cv_found
       UNION ALL SELECT * FROM cv_new
     ),
     target AS (
       -- A contact created by this statement is not visible to its own joins: fall back to the input.
       SELECT conv.*, coalesce(ct.telefono, '+' || (i.j->>'phoneDigits')) AS contact_phone, ct.wa_user_id,
              -- The number to send from: the line's configured phone_number_id, else the one the
              -- customer last wrote to (the embedded default configures no line).
              -- WhatsApp's own spelling of the number (+54 stored without the 9 → 549…), or the user id.
              CASE WHEN coalesce(ct.telefono, '+' || (i.j->>'phoneDigits')) ~ '^[+]?[0-9]{6,}$'
                   THEN router_telefono_clave(coalesce(ct.telefono, '+' || (i.j->>'phoneDigits'))) ELSE ct.wa_user_id END AS dest,
              coalesce((SELECT l.phone_number_id FROM router_lineas l WHERE l.codigo = conv.linea_origen AND l.activo),
                       (SELECT m.metadata->'line'->>'phoneNumberId' FROM mensajes m
                         WHERE m.conversacion_id = conv.id AND m.direccion = 'entrante' AND m.metadata ? 'line'
                         ORDER BY m."timestamp" DESC LIMIT 1),
                       (SELECT e.linea FROM router_eventos e WHERE e.tipo = 'message' ORDER BY e.id DESC LIMIT 1)) AS pnid,
              greatest(conv.ventana_24h_fin, conv.ventana_72h_fin) AS window_end,
              (NOT (i.j->>'requiresWindow')::boolean OR greatest(conv.ventana_24h_fin, conv.ventana_72h_fin) > now()
               -- Evolution lines (WhatsApp Web) have no customer-service window.
               OR EXISTS (SELECT 1 FROM router_lineas l WHERE l.codigo = conv.linea_origen AND l.activo AND l.tipo = 'evolution')) AS allowed
         FROM conv LEFT JOIN contactos ct ON ct.id = conv.contacto_id, i
        LIMIT 1
     ),
     nuevo AS (SELECT gen_random_uuid() AS id),
     -- The key is claimed first: of two requests with one key at once, the second waits on the
     -- first's row, then finds it taken and stores nothing (it answers as the duplicate).
     claim AS (
       INSERT INTO router_idempotencia (clave, mensaje_id, request_hash)
       SELECT i.j->>'idempotencyKey', nuevo.id, i.j->>'requestHash' FROM i, nuevo, target
        WHERE i.j->>'idempotencyKey' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM prior)
       ON CONFLICT (clave) DO NOTHING
       RETURNING clave
     ),
     msg AS (
       INSERT INTO mensajes (id, conversacion_id, mensaje, tipo, direccion, remitente_tipo, remitente_nombre, estado_envio, fallido, error_mensaje, eliminado, metadata, "timestamp")
       SELECT (SELECT id FROM nuevo), t.id, i.j->>'preview', i.j->>'tipo', 'saliente', 'agente', i.j->>'agentName',
              CASE WHEN t.allowed THEN NULL ELSE 'failed' END, NOT t.allowed,
              CASE WHEN t.allowed THEN NULL ELSE 'outside_24h_window: free-form message refused; use a template' END, false,
              jsonb_strip_nulls(jsonb_build_object('idempotency_key', i.j->>'idempotencyKey', 'request_hash', i.j->>'requestHash', 'origen', 'admin_api')),
              now()
         FROM target t, i
        WHERE NOT EXISTS (SELECT 1 FROM prior)
          AND (i.j->>'idempotencyKey' IS NULL OR EXISTS (SELECT 1 FROM claim))
       RETURNING id, conversacion_id
     ),
     ob AS (
       INSERT INTO router_outbox (canal, mensaje_id, conversacion_id, linea, destinatario, orden_key, payload)
       SELECT 'whatsapp', msg.id, t.id, t.pnid, t.dest,
              'wa:' || t.pnid || ':' || t.dest,
              (i.j->'body') || jsonb_build_object('to', t.dest)
         FROM msg, target t, i WHERE t.allowed
       RETURNING id
     )
     SELECT CASE
              -- Rows stored before request hashes were kept have none: they count as the same request.
              WHEN EXISTS (SELECT 1 FROM prior p, i WHERE p.request_hash IS DISTINCT FROM i.j->>'requestHash' AND p.request_hash IS NOT NULL) THEN 'key_reused'
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
  if (row.status === 'key_reused')
    return { status: 'key_reused', messageId: row.message_id, conversationId: row.conversation_id };
  if (row.status === 'outside_window')
    return {
      status: 'outside_window',
      messageId: row.message_id,
      conversationId: row.conversation_id,
      windowEnd: row.window_end,
    };
  return {
    status: row.status as 'queued' | 'duplicate',
    messageId: row.message_id,
    conversationId: row.conversation_id,
  };
}
