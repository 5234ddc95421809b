import { FLOW_WRITES_CTES, type AutoreplyWrite, type FlowWrites } from './flow-writes.js';
import type { SchemaProfile } from './schema-profile.js';

/**
 * The routing decision's writes: what a handler returns as data (conversations/message-handler.ts)
 * and completion-statement.ts commits in the completion statement, so that marking the event done,
 * the new conversation state, the ticket, derivación, 🤖 system line and audit row, the stored bot
 * replies and their outbox rows, and the inbox notification all commit together or not at all — one
 * round trip. Every CTE is guarded by `done`, which exists only when this worker still holds the
 * conversation's lease.
 *
 * The writes travel as one jsonb parameter. `{ticket}` in the router's own texts (reply
 * templates and their Graph bodies, the audit line) is replaced by the ticket id the same statement
 * creates; the notification gets that id in its `ticket` field only (jsonb_set), because it carries
 * the customer's own words, which must reach the agent exactly as typed. Rows are written as the
 * CRM's screens read them (contract §3, §6).
 */
export interface RoutingWrites {
  conversationId: string;
  /** Message time (ISO): ts_ultima_derivacion, and the floor of the stored rows' timestamps. */
  at: string;
  /** phone_number_id the replies leave from. */
  line: string;
  /** The line's CRM code (wsp4…): area_origen, audit origen, the 🤖 line's prefix. */
  lineCode: string;
  to: string;
  /** Customer phone as stored (+…), for tickets and derivaciones. */
  phone: string | null;
  inReplyTo: string;
  /** Sender name of stored bot and system rows (`Router WSP4`). */
  botName: string;
  state: {
    estado?: string;
    router_estado?: string | null;
    menu_actual?: string | null;
    area?: string | null;
    metadata?: Record<string, unknown>;
  } | null;
  derivation: {
    area: string;
    subLabel: string | null;
    reason: string | null;
    /** derivaciones.menu_option_selected: the option's row id, or curso_{uuid}. */
    optionSelected: string | null;
    /** The 🤖 line the agents see (contract §3 system lines). */
    systemLine: string;
    audit: { accion: string; tabla: string; detalles: string; valores: Record<string, unknown> };
    ticketMetadata: Record<string, unknown>;
    timeZone: string;
    version: string;
  } | null;
  replies: {
    ord: number;
    preview: string;
    tipo: string;
    body: Record<string, unknown>;
    /** 'pendiente' → goes to the outbox; 'failed' → recorded, never sent (e.g. outside the window). */
    estado: 'pendiente' | 'failed';
    error: string | null;
    /** Keep a `saliente`/`bot` row for the CRM (per line; off = the old router's behaviour). */
    store: boolean;
  }[];
  /** `payload.ticket` is overwritten with the ticket this statement creates, when it creates one. */
  notify: { url: string | null; orderKey: string; payload: Record<string, unknown> } | null;
  /** The ads funnel's rows and the pin to the sales inbox (flow-writes.ts). */
  flow?: FlowWrites | null;
  /** The autoreply among `replies`, logged with its outbox row. */
  autoreply?: AutoreplyWrite | null;
}

/**
 * The completion statement's routing CTEs, shaped by what the live columns accept. `writes` is the
 * placeholder of the RoutingWrites parameter; the statement must define `done` before them.
 */
export function routingWritesCtes(profile: SchemaProfile, writes: string): string {
  const ticketRef =
    profile.derivationTicket === 'ticket_id' ? 'tk.ticket_id' : `tk.id::${profile.derivationTicketType}`;
  return `
w AS (SELECT ${writes}::jsonb AS j),
base AS (
  -- Stored rows come after the customer's message and in the order they were decided.
  SELECT greatest(now(), (w.j->>'at')::timestamptz + interval '1 millisecond') AS ts FROM w
),
tk AS (
  INSERT INTO tickets (ticket_id, conversacion_id, telefono, area, estado, prioridad, area_origen, area_destino,
                       subetiqueta, motivo, metadata)
  SELECT router_nuevo_ticket(w.j->'derivation'->>'timeZone'), (w.j->>'conversationId')::uuid, w.j->>'phone',
         w.j->'derivation'->>'area', 'abierto', 'normal', w.j->>'lineCode', w.j->'derivation'->>'area',
         w.j->'derivation'->>'subLabel', w.j->'derivation'->>'reason', w.j->'derivation'->'ticketMetadata'
    FROM w WHERE jsonb_typeof(w.j->'derivation') = 'object' AND EXISTS (SELECT 1 FROM done)
  RETURNING id, ticket_id
),
der AS (
  INSERT INTO derivaciones (conversacion_id, telefono, area_origen, area_destino, motivo, subetiqueta,
                            menu_option_selected, ticket_id, status, ts_derivacion, sistema_version, nodo_procesador)
  SELECT (w.j->>'conversationId')::uuid, w.j->>'phone', w.j->>'lineCode', w.j->'derivation'->>'area',
         w.j->'derivation'->>'reason', w.j->'derivation'->>'subLabel', w.j->'derivation'->>'optionSelected',
         ${ticketRef}, 'completada', (w.j->>'at')::timestamptz, w.j->'derivation'->>'version', 'psi-router'
    FROM w, tk
  RETURNING id
),
aud AS (
  INSERT INTO audit_log (accion, tabla_afectada, registro_id, valores_nuevos, motivo, origen, detalles)
  SELECT w.j->'derivation'->'audit'->>'accion', w.j->'derivation'->'audit'->>'tabla',
         (w.j->>'conversationId')::${profile.auditRecordType},
         (w.j->'derivation'->'audit'->'valores') || jsonb_build_object('ticket_id', tk.ticket_id),
         w.j->'derivation'->>'reason', 'router-' || (w.j->>'lineCode'),
         replace(w.j->'derivation'->'audit'->>'detalles', '{ticket}', tk.ticket_id)
    FROM w, tk
  RETURNING id
),
ticket AS (
  SELECT coalesce((SELECT ticket_id FROM tk),
                  (SELECT ticket_id FROM conversaciones WHERE id = (SELECT (j->>'conversationId')::uuid FROM w)), '') AS id
),
-- The 🤖 line: entrante/sistema like the old router's, so agents see why the chat reached them.
sys_line AS (
  INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, remitente_nombre,
                        eliminado, metadata, "timestamp")
  SELECT (w.j->>'conversationId')::uuid, w.j->'derivation'->>'systemLine', 'text', 'entrante', 'sistema',
         w.j->>'botName', false, jsonb_build_object('origen', 'psi-router', 'ticket', tk.ticket_id), base.ts
    FROM w, tk, base
  RETURNING mensaje, "timestamp"
),
rep AS (
  SELECT r.* FROM w, jsonb_to_recordset(coalesce(w.j->'replies', '[]'::jsonb))
    AS r(ord int, preview text, tipo text, body jsonb, estado text, error text, store boolean)
),
out_msg AS (
  INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, remitente_nombre,
                        estado_envio, fallido, error_mensaje, eliminado, metadata, "timestamp")
  SELECT (w.j->>'conversationId')::uuid, replace(rep.preview, '{ticket}', (SELECT id FROM ticket)), rep.tipo,
         'saliente', 'bot', w.j->>'botName',
         CASE WHEN rep.estado = 'failed' THEN 'failed' END, rep.estado = 'failed', rep.error, false,
         jsonb_build_object('ord', rep.ord, 'en_respuesta_a', w.j->>'inReplyTo', 'origen', 'psi-router'),
         base.ts + (rep.ord + 1) * interval '1 millisecond'
    FROM w, rep, base WHERE rep.store AND EXISTS (SELECT 1 FROM done)
  RETURNING id, (metadata->>'ord')::int AS ord, mensaje, "timestamp"
),
${FLOW_WRITES_CTES},
last_row AS (
  SELECT mensaje, "timestamp" FROM (SELECT * FROM sys_line UNION ALL SELECT * FROM pin_line
                                    UNION ALL SELECT mensaje, "timestamp" FROM out_msg) x
   ORDER BY "timestamp" DESC LIMIT 1
),
conv_upd AS (
  UPDATE conversaciones c SET
    estado = coalesce(w.j->'state'->>'estado', c.estado),
    router_estado = CASE WHEN w.j->'state' ? 'router_estado' THEN w.j->'state'->>'router_estado' ELSE c.router_estado END,
    menu_actual = CASE WHEN w.j->'state' ? 'menu_actual' THEN w.j->'state'->>'menu_actual' ELSE c.menu_actual END,
    area = CASE WHEN w.j->'state' ? 'area' THEN w.j->'state'->>'area' ELSE c.area END,
    -- The funnel's pin to the sales inbox (AM:40-68): the CRM then sends from this line, and lists it there.
    linea_origen = CASE WHEN jsonb_typeof(w.j->'flow'->'pin') = 'object' THEN w.j->>'lineCode' ELSE c.linea_origen END,
    inbox_fijo = CASE WHEN jsonb_typeof(w.j->'flow'->'pin') = 'object' THEN w.j->>'lineCode' ELSE c.inbox_fijo END,
    desconectado_wsp4 = CASE WHEN jsonb_typeof(w.j->'flow'->'pin') = 'object' THEN true ELSE c.desconectado_wsp4 END,
    desconectado_por = CASE WHEN jsonb_typeof(w.j->'flow'->'pin') = 'object'
                            THEN CASE WHEN (w.j->'flow'->'pin'->>'byAd')::boolean THEN 'automatizacion_ctwa'
                                      ELSE 'automatizacion_entrada_directa' END
                            ELSE c.desconectado_por END,
    desconectado_motivo = CASE WHEN jsonb_typeof(w.j->'flow'->'pin') = 'object' THEN w.j->'flow'->'pin'->>'reason' ELSE c.desconectado_motivo END,
    desconectado_ts = CASE WHEN jsonb_typeof(w.j->'flow'->'pin') = 'object' THEN now() ELSE c.desconectado_ts END,
    metadata = coalesce(c.metadata, '{}'::jsonb) || coalesce(w.j->'state'->'metadata', '{}'::jsonb),
    ticket_id = coalesce((SELECT ticket_id FROM tk), c.ticket_id),
    ts_ultima_derivacion = CASE WHEN EXISTS (SELECT 1 FROM tk) THEN (w.j->>'at')::timestamptz ELSE c.ts_ultima_derivacion END,
    numero_derivaciones = coalesce(c.numero_derivaciones, 0) + (SELECT count(*)::int FROM tk),
    ultimo_mensaje = coalesce((SELECT mensaje FROM last_row), c.ultimo_mensaje),
    ts_ultimo_mensaje = greatest(c.ts_ultimo_mensaje, (SELECT "timestamp" FROM last_row)),
    ultimo_mensaje_at = greatest(c.ultimo_mensaje_at, (SELECT "timestamp" FROM last_row)),
    updated_at = now()
  FROM w
  WHERE c.id = (w.j->>'conversationId')::uuid AND EXISTS (SELECT 1 FROM done)
    AND (jsonb_typeof(w.j->'state') = 'object' OR EXISTS (SELECT 1 FROM last_row))
  RETURNING c.id
),
out_box AS (
  INSERT INTO router_outbox (canal, mensaje_id, conversacion_id, linea, destinatario, orden_key, payload)
  SELECT 'whatsapp', out_msg.id, (w.j->>'conversationId')::uuid, w.j->>'line', w.j->>'to',
         'wa:' || (w.j->>'line') || ':' || (w.j->>'to'),
         replace(rep.body::text, '{ticket}', (SELECT id FROM ticket))::jsonb
    FROM w, rep LEFT JOIN out_msg ON out_msg.ord = rep.ord
   WHERE rep.estado = 'pendiente' AND EXISTS (SELECT 1 FROM done)
   ORDER BY rep.ord
  RETURNING id
),
notify AS (
  INSERT INTO router_outbox (canal, conversacion_id, linea, destinatario, orden_key, payload, estado, error)
  SELECT 'inbox', (w.j->>'conversationId')::uuid, w.j->>'line', coalesce(w.j->'notify'->>'url', ''),
         w.j->'notify'->>'orderKey',
         CASE WHEN EXISTS (SELECT 1 FROM tk)
              THEN jsonb_set(w.j->'notify'->'payload', '{ticket}', to_jsonb((SELECT ticket_id FROM tk)))
              ELSE w.j->'notify'->'payload' END,
         CASE WHEN w.j->'notify'->>'url' IS NULL THEN 'fallido' ELSE 'pendiente' END,
         CASE WHEN w.j->'notify'->>'url' IS NULL THEN 'area has no inbox_webhook_url' END
    FROM w WHERE jsonb_typeof(w.j->'notify') = 'object' AND EXISTS (SELECT 1 FROM done)
  RETURNING id
)`;
}
