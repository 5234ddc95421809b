import type { InboundMessageEvent } from '../webhook/inbound-event.js';
import { SANDBOX_PHONE } from '../sandbox/sandbox-phones.js';
import type { Queryable } from './db.js';

/** Conversation state as the router needs it (a subset of the CRM's `conversaciones`). */
export interface ConversationRow {
  id: string;
  contacto_id: string | null;
  telefono: string | null;
  nombre: string | null;
  linea_origen: string | null;
  area: string | null;
  /** The CRM's domain: activa, derivada, cerrada, nueva, abierta, esperando, resuelta … */
  estado: string | null;
  router_estado: string | null;
  menu_actual: string | null;
  ultimo_mensaje: string | null;
  ts_ultimo_mensaje: string | null;
  mensajes_no_leidos: number | null;
  ventana_24h_fin: string | null;
  ventana_72h_fin: string | null;
  desconectado_wsp4: boolean | null;
  desconectado_ventas_api: boolean | null;
  inbox_fijo: string | null;
  ts_ultima_derivacion: string | null;
  numero_derivaciones: number | null;
  ticket_id: string | null;
  metadata: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
}

export interface RecentMessage {
  id: string;
  mensaje: string | null;
  tipo: string;
  direccion: string;
  remitente_tipo: string | null;
  whatsapp_message_id: string | null;
  estado_envio: string | null;
  timestamp: string;
}

export type ContextResult =
  | { status: 'not_leased' }
  | { status: 'empty' }
  /** Queue mode: an earlier acknowledged message of this conversation is not in the journal yet. */
  | { status: 'gap' }
  /** The oldest pending event is waiting out a retry backoff. */
  | { status: 'backoff'; waitMs: number }
  /**
   * The statement committed (the attempt is counted, the lease held) but returned no conversation or
   * message for the event: an anomaly the processor records as a failed attempt like any other.
   */
  | { status: 'incomplete'; eventId: string; attempt: number; reason: string }
  | {
      status: 'event';
      eventId: string;
      event: InboundMessageEvent;
      /** Id of the webhook request that delivered the event, for log correlation. */
      requestId: string | null;
      /** Time from the webhook's 200 (journal insert) to the start of this processing, ms. */
      pickupMs: number;
      /** Attempts including this one. */
      attempt: number;
      /** The wamid was already in `mensajes` before this statement (redelivery or a retried attempt). */
      duplicate: boolean;
      /** The CRM code of the line the message arrived on (router_lineas, or the default line). */
      line: string;
      conversation: ConversationRow;
      /** This statement created the conversation. */
      created: boolean;
      /** `ventana_24h_fin` before this message rolled it: the window the customer came back in. */
      previousWindowEnd: string | null;
      /** Id of the stored message (for a reaction: the message reacted to, when known). */
      messageId: string | null;
      /** Up to 10 messages before this one, newest first. */
      recent: RecentMessage[];
      /** The contact has a conversation on another line too (a customer the business knows). */
      knownElsewhere: boolean;
    };

export interface ContextOptions {
  /** The router counts `mensajes_no_leidos` itself (false when the database's own trigger does). */
  countUnread: boolean;
  /** Public base URL of this router's /media route; null when media is not kept. */
  mediaBaseUrl: string | null;
  /** Line code of a number when no Cloud line is configured (the embedded default): `wsp4`. */
  defaultLine: string;
}

/**
 * THE context query: one statement, one round trip, which
 *   1. takes or renews this worker's lease on the conversation (fencing: nothing happens without it),
 *   2. picks the conversation's oldest pending journal event (WhatsApp time, then arrival),
 *   3. resolves the line's CRM code from the phone_number_id (router_lineas),
 *   4. finds the contact under any spelling of the phone the CRM uses (+549…, +54…, no '+'),
 *      creating it only when none exists, and fills an empty name from the WhatsApp profile,
 *   5. finds the conversation (this contact on this line, else one the CRM opened by hand with
 *      "Nuevo chat" or took off this line with "Desconectar"), creating it only when none exists — the CRM's table has no unique key to
 *      upsert on, and the lease makes this find-or-create exclusive for the router,
 *   6. rolls what the CRM's list reads (ultimo_mensaje, ts_ultimo_mensaje, the 24 h / 72 h windows,
 *      the unread count when no trigger keeps it) — unless the message was already stored,
 *   7. inserts the message as the chat renders it, idempotently (partial unique index on the wamid),
 *      or, for a reaction, sets the contact's one row in mensaje_reacciones,
 *   8. returns the conversation, the stored message id and the previous 10 messages.
 * All CTEs share one snapshot, so the values flow between them through RETURNING only.
 */
/** Everything but the final SELECT: the batch function (context-batch.ts) reuses it with $1 as a loop variable. */
export const CONTEXT_CTES = `
WITH lease AS (
  INSERT INTO router_locks AS l (conv_key, owner, hasta)
  VALUES ($1, $2, now() + $3 * interval '1 millisecond')
  ON CONFLICT (conv_key) DO UPDATE SET owner = excluded.owner, hasta = excluded.hasta,
    tomado_at = CASE WHEN l.owner = excluded.owner THEN l.tomado_at ELSE now() END
  WHERE l.owner = excluded.owner OR l.hasta < now()
  RETURNING conv_key
),
-- Queue mode: a message numbered below the pending ones has been acknowledged but not journalled
-- yet (another worker is inserting it). Wait for it, up to $4 ms, so order follows acknowledgement.
gap AS (
  SELECT 1 FROM (
    SELECT min(e.seq) AS min_seq, min(e.recibido_at) AS oldest
      FROM router_eventos e
     WHERE e.conv_key = $1 AND e.estado = 'pendiente' AND e.seq IS NOT NULL
  ) g
  LEFT JOIN router_conv_seq s ON s.conv_key = $1
  WHERE g.min_seq > coalesce(s.ultimo_seq, 0) + 1
    AND g.oldest > clock_timestamp() - $4 * interval '1 millisecond'
),
head AS (
  SELECT e.id, e.wamid, e.wa_ts, e.payload, e.intentos, e.disponible_at, e.request_id
    FROM router_eventos e
   WHERE e.conv_key = $1 AND e.estado = 'pendiente' AND EXISTS (SELECT 1 FROM lease)
     AND NOT EXISTS (SELECT 1 FROM gap)
   ORDER BY e.wa_ts, e.id
   LIMIT 1
),
-- A head event in retry backoff holds the whole conversation back: order beats throughput.
ev AS (
  SELECT * FROM head WHERE head.disponible_at <= now()
),
f AS (
  SELECT ev.id, ev.wamid, ev.wa_ts AS ts, ev.payload AS p, ev.request_id,
         ev.payload->>'from' AS digits,
         -- A username-only customer has no phone: the CRM's telefono (NOT NULL) gets the user id.
         coalesce('+' || (ev.payload->>'from'), ev.payload->>'userId') AS telefono,
         CASE WHEN ev.payload->>'from' IS NOT NULL THEN router_telefono_variantes(ev.payload->>'from')
              ELSE ARRAY[ev.payload->>'userId'] END AS variantes,
         ev.payload->>'userId' AS user_id,
         ev.payload->>'username' AS username,
         nullif(btrim(ev.payload->>'profileName'), '') AS nombre,
         ev.payload->'line'->>'phoneNumberId' AS pnid,
         ev.payload->>'type' AS tipo,
         ev.payload->>'type' <> 'reaction' AS es_mensaje,
         -- Evolution lines: typed by staff on the line's own phone (the agent's row, not the customer's).
         coalesce((ev.payload->>'fromMe')::boolean, false) AS de_mi,
         router_texto_crm(ev.payload) AS texto,
         CASE WHEN jsonb_typeof(ev.payload->'referral') = 'object' THEN ev.payload->'referral' END AS referral,
         ev.payload->'context'->>'messageId' AS context_id,
         ev.payload->'reaction'->>'messageId' AS reaccion_a,
         nullif(ev.payload->'reaction'->>'emoji', '') AS emoji,
         ev.payload->'media'->>'id' AS media_id,
         router_media_type(ev.payload->>'type') AS media_type,
         CASE WHEN ev.payload->'media'->>'id' IS NOT NULL
              THEN router_media_nombre(ev.payload->>'type', ev.payload->'media'->>'mimeType', ev.payload->'media'->>'filename') END AS media_nombre,
         gen_random_uuid() AS nuevo_id,
         EXISTS (SELECT 1 FROM mensajes m WHERE m.whatsapp_message_id = ev.wamid) AS dup,
         ev.intentos + 1 AS intento,
         -- A sandbox customer (/admin/sandbox): marked on its contact and conversation for the CRM.
         CASE WHEN ev.payload->>'from' ~ '${SANDBOX_PHONE.source}' THEN '{"sandbox": true}'::jsonb
              ELSE '{}'::jsonb END AS marca
    FROM ev
),
ln AS (
  SELECT coalesce(
           (SELECT l.codigo FROM router_lineas l WHERE l.phone_number_id = f.pnid AND l.activo),
           -- An Evolution line (evo:<code>) is never the default Cloud number, even once deactivated.
           CASE WHEN f.pnid LIKE 'evo:%' THEN substr(f.pnid, 5)
                WHEN NOT EXISTS (SELECT 1 FROM router_lineas l WHERE l.tipo = 'cloud' AND l.activo) THEN $7
                ELSE f.pnid END) AS codigo
    FROM f
),
bump AS (
  UPDATE router_eventos SET intentos = intentos + 1, iniciado_at = clock_timestamp(), procesado_por = $2
   WHERE id = (SELECT id FROM f)
  RETURNING id, extract(epoch FROM clock_timestamp() - recibido_at) * 1000 AS wait_ms
),
-- Two lookups, each on its own index, instead of one OR: a prepared statement's generic plan cannot
-- turn an OR across a CTE's values into index scans and read every contact once the table was small.
c_found AS (
  SELECT x.id, x.nombre, x.wa_user_id, x.username FROM (
    SELECT c.id, c.nombre, c.wa_user_id, c.username, c.telefono, c.created_at FROM contactos c
     WHERE c.telefono = ANY ((SELECT f.variantes FROM f)::text[])
    UNION ALL
    SELECT c.id, c.nombre, c.wa_user_id, c.username, c.telefono, c.created_at FROM contactos c
     WHERE c.wa_user_id = (SELECT user_id FROM f WHERE digits IS NULL)
  ) x, f
   ORDER BY (x.telefono = f.telefono) DESC, x.created_at, x.id
   LIMIT 1
),
c_new AS (
  INSERT INTO contactos AS c (telefono, nombre, origen, wa_user_id, username, metadata)
  SELECT f.telefono, f.nombre, 'whatsapp', f.user_id, f.username, f.marca FROM f
   WHERE NOT EXISTS (SELECT 1 FROM c_found)
  -- No ON CONFLICT: the CRM's database may or may not hold a unique key on telefono. Should another
  -- line's worker create this very phone at the same instant, the unique violation fails this
  -- attempt and the retry finds that contact.
  RETURNING c.id
),
c_upd AS (
  UPDATE contactos c SET nombre = coalesce(nullif(c.nombre, ''), f.nombre),
         wa_user_id = coalesce(c.wa_user_id, f.user_id), username = coalesce(f.username, c.username),
         updated_at = now()
    FROM f
   WHERE c.id = (SELECT id FROM c_found)
     AND ((f.nombre IS NOT NULL AND coalesce(c.nombre, '') = '')
          OR (c.wa_user_id IS NULL AND f.user_id IS NOT NULL)
          OR (f.username IS NOT NULL AND f.username IS DISTINCT FROM c.username))
  RETURNING c.id
),
contact AS (
  SELECT id FROM c_found UNION ALL SELECT id FROM c_new LIMIT 1
),
cv_found AS (
  SELECT cv.* FROM conversaciones cv, f, ln
   WHERE (cv.contacto_id = (SELECT id FROM contact)
          OR (cv.contacto_id IS NULL AND cv.telefono = ANY (f.variantes)))
     AND (cv.linea_origen = ln.codigo
          -- Opened by hand in the CRM ("Nuevo chat", CP:266-272: origen 'crm', estado 'nueva').
          OR cv.origen = 'crm' OR cv.estado = 'nueva'
          -- Taken off the router by the CRM or the ads automation (CH:289-297, AM:46-57): the
          -- customer's conversation now lives in a fixed inbox, and this line's messages go there too.
          OR nullif(btrim(cv.inbox_fijo), '') IS NOT NULL
          OR (ln.codigo = 'wsp4' AND cv.desconectado_wsp4 IS TRUE)
          OR (ln.codigo = 'ventas_api' AND cv.desconectado_ventas_api IS TRUE))
   ORDER BY (cv.linea_origen = ln.codigo) DESC, cv.ts_ultimo_mensaje DESC NULLS LAST,
            cv.updated_at DESC NULLS LAST, cv.created_at DESC NULLS LAST, cv.id
   LIMIT 1
),
cv_new AS (
  INSERT INTO conversaciones AS cv (contacto_id, telefono, nombre, linea_origen, area, estado, canal, origen,
    iniciado_por, prioridad, leida, ultimo_mensaje, ts_ultimo_mensaje, ultimo_mensaje_at, mensajes_no_leidos,
    ventana_24h_activa, ventana_24h_inicio, ventana_24h_fin, ventana_72h_activa, ventana_72h_inicio,
    ventana_72h_fin, es_lead_meta, metadata, created_at, updated_at)
  SELECT (SELECT id FROM contact), f.telefono, f.nombre, ln.codigo, ln.codigo, 'activa', 'whatsapp', 'whatsapp',
         'usuario', 'media', false,
         CASE WHEN f.es_mensaje THEN f.texto END, CASE WHEN f.es_mensaje THEN f.ts END,
         CASE WHEN f.es_mensaje THEN f.ts END,
         CASE WHEN f.es_mensaje AND $5 AND NOT f.de_mi THEN 1 ELSE 0 END,
         -- Only the customer opens the 24 h window; staff typing on an Evolution line's phone does not.
         f.es_mensaje AND NOT f.de_mi, CASE WHEN f.es_mensaje AND NOT f.de_mi THEN f.ts END,
         CASE WHEN f.es_mensaje AND NOT f.de_mi THEN f.ts + interval '24 hours' END,
         f.referral IS NOT NULL, CASE WHEN f.referral IS NOT NULL THEN f.ts END,
         CASE WHEN f.referral IS NOT NULL THEN f.ts + interval '72 hours' END,
         f.referral IS NOT NULL,
         f.marca || CASE WHEN f.referral IS NOT NULL
                         THEN jsonb_build_object('referral', f.referral || jsonb_build_object('ts', f.ts))
                         ELSE '{}'::jsonb END,
         now(), now()
    FROM f, ln
   WHERE NOT EXISTS (SELECT 1 FROM cv_found)
  RETURNING cv.*
),
cv_upd AS (
  UPDATE conversaciones cv SET
    ultimo_mensaje = CASE WHEN f.ts >= coalesce(cv.ts_ultimo_mensaje, '-infinity') THEN f.texto ELSE cv.ultimo_mensaje END,
    ts_ultimo_mensaje = greatest(cv.ts_ultimo_mensaje, f.ts),
    ultimo_mensaje_at = greatest(cv.ultimo_mensaje_at, f.ts),
    mensajes_no_leidos = coalesce(cv.mensajes_no_leidos, 0) + CASE WHEN $5 AND NOT f.de_mi THEN 1 ELSE 0 END,
    nombre = coalesce(nullif(cv.nombre, ''), f.nombre),
    contacto_id = coalesce(cv.contacto_id, (SELECT id FROM contact)),
    -- Only the customer's own messages open the customer-service window.
    ventana_24h_activa = CASE WHEN f.de_mi THEN cv.ventana_24h_activa ELSE true END,
    ventana_24h_inicio = CASE WHEN NOT f.de_mi AND f.ts + interval '24 hours' > coalesce(cv.ventana_24h_fin, '-infinity') THEN f.ts ELSE cv.ventana_24h_inicio END,
    ventana_24h_fin = CASE WHEN f.de_mi THEN cv.ventana_24h_fin ELSE greatest(cv.ventana_24h_fin, f.ts + interval '24 hours') END,
    ventana_72h_activa = CASE WHEN f.referral IS NOT NULL THEN true ELSE cv.ventana_72h_activa END,
    ventana_72h_inicio = CASE WHEN f.referral IS NOT NULL THEN f.ts ELSE cv.ventana_72h_inicio END,
    ventana_72h_fin = CASE WHEN f.referral IS NOT NULL THEN greatest(cv.ventana_72h_fin, f.ts + interval '72 hours') ELSE cv.ventana_72h_fin END,
    es_lead_meta = CASE WHEN f.referral IS NOT NULL THEN true ELSE cv.es_lead_meta END,
    metadata = CASE WHEN f.referral IS NOT NULL
                    THEN coalesce(cv.metadata, '{}'::jsonb) || jsonb_build_object('referral', f.referral || jsonb_build_object('ts', f.ts))
                    ELSE cv.metadata END,
    updated_at = now()
    FROM f
   WHERE cv.id = (SELECT id FROM cv_found) AND f.es_mensaje AND NOT f.dup
  RETURNING cv.*
),
conv AS (
  SELECT * FROM cv_upd
  UNION ALL SELECT * FROM cv_new
  UNION ALL SELECT * FROM cv_found WHERE NOT EXISTS (SELECT 1 FROM cv_upd)
),
msg AS (
  INSERT INTO mensajes (id, conversacion_id, mensaje, tipo, direccion, remitente_tipo, remitente_nombre,
    whatsapp_message_id, whatsapp_context_id, mensaje_citado_id, media_id, media_type, media_url, media_filename,
    eliminado, metadata, "timestamp", estado_envio, enviado)
  SELECT f.nuevo_id, conv.id, f.texto, router_tipo_crm(f.tipo),
         CASE WHEN f.de_mi THEN 'saliente' ELSE 'entrante' END, CASE WHEN f.de_mi THEN 'agente' ELSE 'contacto' END,
         CASE WHEN f.de_mi THEN 'Teléfono' ELSE f.nombre END,
         f.wamid, f.context_id,
         (SELECT q.id FROM mensajes q WHERE f.context_id IS NOT NULL AND q.whatsapp_message_id = f.context_id
           ORDER BY q.created_at LIMIT 1),
         f.media_id, CASE WHEN f.media_id IS NOT NULL THEN f.media_type END,
         CASE WHEN f.media_id IS NOT NULL AND $6::text IS NOT NULL
              THEN $6::text || '/media/' || f.nuevo_id || '/' || router_url_segmento(f.media_nombre) END,
         f.media_nombre, false, f.p, f.ts,
         CASE WHEN f.de_mi THEN 'sent' END, f.de_mi
    FROM f, conv
   WHERE f.es_mensaje AND NOT f.dup
  ON CONFLICT (whatsapp_message_id) WHERE whatsapp_message_id IS NOT NULL AND whatsapp_message_id <> '' DO NOTHING
  RETURNING id
),
-- The contact's reaction: one row per message (usuario_id NULL; agents' rows are theirs), an empty
-- emoji removes it, a new one replaces it (contract §4). Never a bubble of its own.
r_target AS (
  SELECT m.id FROM mensajes m, f
   WHERE NOT f.es_mensaje AND f.reaccion_a IS NOT NULL AND f.reaccion_a <> '' AND m.whatsapp_message_id = f.reaccion_a
   ORDER BY m.created_at LIMIT 1
),
r_rows AS (
  SELECT r.id, r.emoji, row_number() OVER (ORDER BY r.created_at, r.id) AS n
    FROM mensaje_reacciones r WHERE r.mensaje_id = (SELECT id FROM r_target) AND r.usuario_id IS NULL
),
r_del AS (
  -- The filter sits inside the subquery so the plan reaches mensaje_reacciones by primary key only.
  DELETE FROM mensaje_reacciones r
   WHERE r.id IN (SELECT r_rows.id FROM r_rows, f WHERE f.emoji IS NULL OR r_rows.n > 1)
  RETURNING r.id
),
r_upd AS (
  UPDATE mensaje_reacciones r SET emoji = f.emoji, created_at = now()
    FROM f
   WHERE r.id = (SELECT id FROM r_rows WHERE n = 1) AND f.emoji IS NOT NULL AND r.emoji IS DISTINCT FROM f.emoji
  RETURNING r.id
),
r_ins AS (
  INSERT INTO mensaje_reacciones (mensaje_id, usuario_id, emoji)
  SELECT t.id, NULL, f.emoji FROM r_target t, f
   WHERE f.emoji IS NOT NULL AND NOT EXISTS (SELECT 1 FROM r_rows)
  RETURNING id
),
recent AS (
  SELECT m.id, m.mensaje, m.tipo, m.direccion, m.remitente_tipo, m.whatsapp_message_id,
         m.estado_envio, m."timestamp"
    FROM mensajes m
   WHERE m.conversacion_id = (SELECT id FROM conv)
   ORDER BY m."timestamp" DESC
   LIMIT 10
)
`;

/** The final SELECT: one row whatever happened (no lease, no event, an event). */
export const CONTEXT_SELECT = `SELECT EXISTS (SELECT 1 FROM lease) AS leased,
       EXISTS (SELECT 1 FROM gap) AS gap,
       (SELECT greatest(0, extract(epoch FROM head.disponible_at - now()) * 1000)::int FROM head
         WHERE NOT EXISTS (SELECT 1 FROM ev)) AS wait_ms,
       f.id::text AS event_id, f.p AS event, f.dup, f.intento, f.request_id,
       (SELECT codigo FROM ln) AS line,
       (SELECT wait_ms FROM bump)::float8 AS pickup_ms,
       (SELECT row_to_json(conv) FROM conv) AS conversation,
       EXISTS (SELECT 1 FROM cv_new) AS created,
       (SELECT ventana_24h_fin FROM cv_found)::text AS previous_window_end,
       CASE WHEN f.es_mensaje
            THEN coalesce((SELECT id FROM msg), (SELECT m.id FROM mensajes m WHERE m.whatsapp_message_id = f.wamid ORDER BY m.created_at LIMIT 1))
            ELSE (SELECT id FROM r_target) END AS message_id,
       coalesce((SELECT json_agg(recent) FROM recent), '[]'::json) AS recent,
       EXISTS (SELECT 1 FROM conversaciones o, ln
                WHERE o.contacto_id = (SELECT id FROM contact) AND o.linea_origen IS DISTINCT FROM ln.codigo) AS other_lines
  FROM (SELECT 1) AS one LEFT JOIN f ON true`;

export const CONTEXT_SQL = CONTEXT_CTES + CONTEXT_SELECT;

interface ContextRow {
  leased: boolean;
  gap: boolean;
  wait_ms: number | null;
  event_id: string | null;
  event: InboundMessageEvent | null;
  request_id: string | null;
  line: string | null;
  pickup_ms: number | null;
  dup: boolean | null;
  intento: number | null;
  conversation: ConversationRow | null;
  created: boolean;
  previous_window_end: string | null;
  message_id: string | null;
  recent: RecentMessage[];
  other_lines: boolean | null;
}

/** The statement's parameters, in order (the benchmark and EXPLAIN tests build them the same way). */
export function contextParams(
  convKey: string,
  owner: string,
  leaseMs: number,
  orderWaitMs: number,
  options: ContextOptions,
): unknown[] {
  return [convKey, owner, leaseMs, orderWaitMs, options.countUnread, options.mediaBaseUrl, options.defaultLine];
}

export const DEFAULT_CONTEXT_OPTIONS: ContextOptions = { countUnread: true, mediaBaseUrl: null, defaultLine: 'wsp4' };

export async function loadConversationContext(
  db: Queryable,
  convKey: string,
  owner: string,
  leaseMs: number,
  orderWaitMs = 10_000,
  options: ContextOptions = DEFAULT_CONTEXT_OPTIONS,
): Promise<ContextResult> {
  const res = await db.query<ContextRow>(CONTEXT_SQL, contextParams(convKey, owner, leaseMs, orderWaitMs, options));
  return contextResult(res.rows[0], options);
}

/** What the statement's one row means for the processor (shared by the single and the batch form). */
export function contextResult(found: unknown, options: ContextOptions): ContextResult {
  const row = found as ContextRow | undefined;
  if (!row || !row.leased) return { status: 'not_leased' };
  if (row.gap) return { status: 'gap' };
  if (row.wait_ms !== null && row.wait_ms !== undefined) return { status: 'backoff', waitMs: Number(row.wait_ms) };
  if (row.event_id === null || row.event === null) return { status: 'empty' };
  const event = parseJson<InboundMessageEvent>(row.event);
  if (row.conversation === null || (row.message_id === null && event.type !== 'reaction')) {
    return {
      status: 'incomplete',
      eventId: row.event_id,
      attempt: Number(row.intento ?? 1),
      reason: `context query returned no ${row.conversation === null ? 'conversation' : 'message'} for a pending event`,
    };
  }
  return {
    status: 'event',
    eventId: row.event_id,
    event,
    requestId: row.request_id,
    pickupMs: Number(row.pickup_ms ?? 0),
    attempt: Number(row.intento ?? 1),
    duplicate: Boolean(row.dup),
    line: row.line ?? options.defaultLine,
    conversation: parseJson<ConversationRow>(row.conversation),
    created: Boolean(row.created),
    previousWindowEnd: row.previous_window_end,
    messageId: row.message_id,
    recent: parseJson<RecentMessage[]>(row.recent),
    knownElsewhere: Boolean(row.other_lines),
  };
}

const parseJson = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));
