/**
 * The routing decision's writes, as CTEs appended to the completion statement
 * (processing-repository.ts), so that marking the event done, the new conversation state, the
 * ticket and derivación, the `saliente` messages and their outbox rows, and the inbox notification
 * all commit together or not at all — one round trip. Every CTE is guarded by `done`, which exists
 * only when this worker still holds the conversation's lease.
 *
 * Parameter $4 is one jsonb document (RoutingWrites). `{ticket}` in reply texts, Graph bodies and
 * the notification is replaced by the ticket id the same statement creates.
 */
export interface RoutingWrites {
  conversationId: string;
  contactId: string;
  /** Message time (ISO) used for ts_ultima_derivacion. */
  at: string;
  line: string;
  to: string;
  inReplyTo: string;
  state: {
    estado?: string;
    router_estado?: string | null;
    menu_actual?: string | null;
    area?: string | null;
    metadata?: Record<string, unknown>;
  } | null;
  derivation: { area: string; fromArea: string | null; subLabel: string | null; reason: string | null; timeZone: string } | null;
  replies: {
    ord: number;
    preview: string;
    tipo: string;
    body: Record<string, unknown>;
    /** 'pendiente' → goes to the outbox; 'fallido' → recorded, never sent (e.g. outside the window). */
    estado: 'pendiente' | 'fallido';
    error: string | null;
  }[];
  notify: { url: string | null; orderKey: string; payload: Record<string, unknown> } | null;
}

export const ROUTING_WRITES_CTES = `
w AS (SELECT $4::jsonb AS j),
tk AS (
  INSERT INTO tickets (ticket_id, conversacion_id, contacto_id, area, metadata)
  SELECT router_nuevo_ticket(w.j->'derivation'->>'timeZone'), (w.j->>'conversationId')::uuid,
         (w.j->>'contactId')::uuid, w.j->'derivation'->>'area',
         jsonb_build_object('subetiqueta', w.j->'derivation'->>'subLabel', 'motivo', w.j->'derivation'->>'reason')
    FROM w WHERE jsonb_typeof(w.j->'derivation') = 'object' AND EXISTS (SELECT 1 FROM done)
  RETURNING ticket_id
),
der AS (
  INSERT INTO derivaciones (conversacion_id, contacto_id, area_origen, area_destino, motivo, subetiqueta, ticket_id, ts_derivacion)
  SELECT (w.j->>'conversationId')::uuid, (w.j->>'contactId')::uuid, w.j->'derivation'->>'fromArea',
         w.j->'derivation'->>'area', w.j->'derivation'->>'reason', w.j->'derivation'->>'subLabel',
         tk.ticket_id, (w.j->>'at')::timestamptz
    FROM w, tk
  RETURNING id
),
conv_upd AS (
  UPDATE conversaciones c SET
    estado = coalesce(w.j->'state'->>'estado', c.estado),
    router_estado = CASE WHEN w.j->'state' ? 'router_estado' THEN w.j->'state'->>'router_estado' ELSE c.router_estado END,
    menu_actual = CASE WHEN w.j->'state' ? 'menu_actual' THEN w.j->'state'->>'menu_actual' ELSE c.menu_actual END,
    area = CASE WHEN w.j->'state' ? 'area' THEN w.j->'state'->>'area' ELSE c.area END,
    metadata = c.metadata || coalesce(w.j->'state'->'metadata', '{}'::jsonb),
    ticket_id = coalesce((SELECT ticket_id FROM tk), c.ticket_id),
    ts_ultima_derivacion = CASE WHEN EXISTS (SELECT 1 FROM tk) THEN (w.j->>'at')::timestamptz ELSE c.ts_ultima_derivacion END,
    numero_derivaciones = c.numero_derivaciones + (SELECT count(*)::int FROM tk),
    updated_at = now()
  FROM w
  WHERE c.id = (w.j->>'conversationId')::uuid AND jsonb_typeof(w.j->'state') = 'object' AND EXISTS (SELECT 1 FROM done)
  RETURNING c.ticket_id
),
ticket AS (
  SELECT coalesce((SELECT ticket_id FROM tk),
                  (SELECT ticket_id FROM conversaciones WHERE id = (SELECT (j->>'conversationId')::uuid FROM w)), '') AS id
),
rep AS (
  SELECT r.* FROM w, jsonb_to_recordset(coalesce(w.j->'replies', '[]'::jsonb))
    AS r(ord int, preview text, tipo text, body jsonb, estado text, error text)
),
out_msg AS (
  INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, remitente_nombre,
                        estado_envio, error_texto, metadata, "timestamp")
  SELECT (w.j->>'conversationId')::uuid, replace(rep.preview, '{ticket}', (SELECT id FROM ticket)), rep.tipo,
         'saliente', 'bot', 'psi-router', rep.estado, rep.error,
         jsonb_build_object('ord', rep.ord, 'en_respuesta_a', w.j->>'inReplyTo'),
         now() + rep.ord * interval '1 millisecond'
    FROM w, rep WHERE EXISTS (SELECT 1 FROM done)
  RETURNING id, (metadata->>'ord')::int AS ord
),
out_box AS (
  INSERT INTO router_outbox (canal, mensaje_id, conversacion_id, linea, destinatario, orden_key, payload)
  SELECT 'whatsapp', out_msg.id, (w.j->>'conversationId')::uuid, w.j->>'line', w.j->>'to',
         'wa:' || (w.j->>'line') || ':' || (w.j->>'to'),
         replace(rep.body::text, '{ticket}', (SELECT id FROM ticket))::jsonb
    FROM w, out_msg JOIN rep ON rep.ord = out_msg.ord
   WHERE rep.estado = 'pendiente'
   ORDER BY rep.ord
  RETURNING id
),
notify AS (
  INSERT INTO router_outbox (canal, conversacion_id, linea, destinatario, orden_key, payload, estado, error)
  SELECT 'inbox', (w.j->>'conversationId')::uuid, w.j->>'line', coalesce(w.j->'notify'->>'url', ''),
         w.j->'notify'->>'orderKey',
         replace((w.j->'notify'->'payload')::text, '{ticket}', (SELECT id FROM ticket))::jsonb,
         CASE WHEN w.j->'notify'->>'url' IS NULL THEN 'fallido' ELSE 'pendiente' END,
         CASE WHEN w.j->'notify'->>'url' IS NULL THEN 'area has no inbox_webhook_url' END
    FROM w WHERE jsonb_typeof(w.j->'notify') = 'object' AND EXISTS (SELECT 1 FROM done)
  RETURNING id
)`;

export function routingWritesParams(writes: RoutingWrites): unknown[] {
  return [JSON.stringify(writes)];
}
