import type { InboundMessageEvent } from '../webhook/inbound-event.js';
import type { Queryable } from './db.js';
import { AppError } from '../errors.js';

/** Conversation state as the router needs it (a subset of `conversaciones`). */
export interface ConversationRow {
  id: string;
  contacto_id: string;
  telefono: string | null;
  linea_origen: string;
  area: string | null;
  estado: 'activa' | 'derivada' | 'cerrada';
  router_estado: string | null;
  menu_actual: string | null;
  ultimo_mensaje: string | null;
  ts_ultimo_mensaje: string | null;
  sin_leer: number;
  ventana_24h_fin: string | null;
  ventana_72h_fin: string | null;
  ts_ultima_derivacion: string | null;
  numero_derivaciones: number;
  ticket_id: string | null;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  /** True when this very statement created the conversation. */
  creada: boolean;
}

export interface RecentMessage {
  id: string;
  mensaje: string | null;
  tipo: string;
  direccion: 'entrante' | 'saliente';
  remitente_tipo: string;
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
      conversation: ConversationRow;
      /** Id of the stored message. */
      messageId: string;
      /** Up to 10 messages before this one, newest first. */
      recent: RecentMessage[];
      /** The contact has a conversation on another line too (a customer the business knows). */
      knownElsewhere: boolean;
    };

/**
 * THE context query: one statement, one round trip, which
 *   1. takes or renews this worker's lease on the conversation (fencing: nothing happens without it),
 *   2. picks the conversation's oldest pending journal event (WhatsApp time, then arrival),
 *   3. upserts the contact (by phone, or by business-scoped user id for username-only users),
 *   4. upserts the conversation (one per contact and line) rolling ultimo_mensaje, sin_leer and the
 *      24 h / 72 h windows — unless the message was already stored, in which case nothing changes,
 *   5. inserts the message idempotently (unique wamid),
 *   6. returns the conversation, the stored message id and the previous 10 messages.
 * It replaces the 3+ sequential queries of the CRM's old router. All CTEs share one snapshot, so the
 * values flow between them through RETURNING only.
 */
export const CONTEXT_SQL = `
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
         CASE WHEN ev.payload->>'from' IS NOT NULL THEN '+' || (ev.payload->>'from') END AS telefono,
         ev.payload->>'userId' AS user_id,
         ev.payload->>'username' AS username,
         ev.payload->>'profileName' AS nombre,
         ev.payload->'line'->>'phoneNumberId' AS linea,
         ev.payload->>'type' AS tipo,
         ev.payload->>'text' AS texto,
         CASE WHEN jsonb_typeof(ev.payload->'referral') = 'object' THEN ev.payload->'referral' END AS referral,
         coalesce(ev.payload->'context'->>'messageId', ev.payload->'reaction'->>'messageId') AS context_id,
         ev.payload->'media'->>'id' AS media_id,
         ev.payload->'media'->>'mimeType' AS media_mime,
         ev.payload->'media'->>'filename' AS media_filename,
         EXISTS (SELECT 1 FROM mensajes m WHERE m.whatsapp_message_id = ev.wamid) AS dup,
         ev.intentos + 1 AS intento
    FROM ev
),
bump AS (
  UPDATE router_eventos SET intentos = intentos + 1, iniciado_at = clock_timestamp(), procesado_por = $2
   WHERE id = (SELECT id FROM f)
  RETURNING id, extract(epoch FROM clock_timestamp() - recibido_at) * 1000 AS wait_ms
),
c_phone AS (
  INSERT INTO contactos AS c (telefono, wa_user_id, username, nombre, origen)
  SELECT telefono, user_id, username, nombre, 'whatsapp' FROM f WHERE telefono IS NOT NULL
  ON CONFLICT (telefono) DO UPDATE SET
    nombre = coalesce(excluded.nombre, c.nombre),
    username = coalesce(excluded.username, c.username),
    wa_user_id = coalesce(c.wa_user_id, excluded.wa_user_id),
    updated_at = CASE WHEN (excluded.nombre IS NOT NULL AND excluded.nombre IS DISTINCT FROM c.nombre)
                        OR (excluded.username IS NOT NULL AND excluded.username IS DISTINCT FROM c.username)
                        OR (c.wa_user_id IS NULL AND excluded.wa_user_id IS NOT NULL)
                      THEN now() ELSE c.updated_at END
  RETURNING c.id
),
c_user_found AS (
  SELECT c.id FROM contactos c, f
   WHERE f.telefono IS NULL AND c.wa_user_id = f.user_id
   ORDER BY (c.telefono IS NULL), c.created_at
   LIMIT 1
),
c_user_new AS (
  INSERT INTO contactos AS c (wa_user_id, username, nombre, origen)
  SELECT user_id, username, nombre, 'whatsapp' FROM f
   WHERE f.telefono IS NULL AND NOT EXISTS (SELECT 1 FROM c_user_found)
  ON CONFLICT (wa_user_id) WHERE telefono IS NULL DO UPDATE SET
    nombre = coalesce(excluded.nombre, c.nombre), username = coalesce(excluded.username, c.username)
  RETURNING c.id
),
contact AS (
  SELECT id FROM c_phone UNION ALL SELECT id FROM c_user_found UNION ALL SELECT id FROM c_user_new LIMIT 1
),
conv AS (
  -- For a redelivered message the inserted values are NULL/0, which the update below ignores.
  INSERT INTO conversaciones AS cv (contacto_id, telefono, linea_origen, estado, ultimo_mensaje,
    ts_ultimo_mensaje, sin_leer, ventana_24h_fin, ventana_72h_fin, metadata)
  SELECT contact.id, f.telefono, f.linea, 'activa',
         CASE WHEN NOT f.dup THEN left(coalesce(f.texto, '[' || f.tipo || ']'), 500) END,
         CASE WHEN NOT f.dup THEN f.ts END,
         CASE WHEN f.dup THEN 0 ELSE 1 END,
         CASE WHEN NOT f.dup THEN f.ts + interval '24 hours' END,
         CASE WHEN NOT f.dup AND f.referral IS NOT NULL THEN f.ts + interval '72 hours' END,
         CASE WHEN NOT f.dup AND f.referral IS NOT NULL
              THEN jsonb_build_object('referral', f.referral || jsonb_build_object('ts', f.ts))
              ELSE '{}'::jsonb END
    FROM f, contact
  ON CONFLICT (contacto_id, linea_origen) DO UPDATE SET
    ultimo_mensaje = CASE WHEN excluded.ts_ultimo_mensaje >= coalesce(cv.ts_ultimo_mensaje, '-infinity')
                          THEN excluded.ultimo_mensaje ELSE cv.ultimo_mensaje END,
    ts_ultimo_mensaje = greatest(cv.ts_ultimo_mensaje, excluded.ts_ultimo_mensaje),
    sin_leer = cv.sin_leer + excluded.sin_leer,
    telefono = coalesce(cv.telefono, excluded.telefono),
    ventana_24h_fin = greatest(cv.ventana_24h_fin, excluded.ventana_24h_fin),
    ventana_72h_fin = greatest(cv.ventana_72h_fin, excluded.ventana_72h_fin),
    metadata = cv.metadata || excluded.metadata,
    updated_at = CASE WHEN excluded.sin_leer > 0 THEN now() ELSE cv.updated_at END
  RETURNING cv.*, (xmax = 0) AS creada
),
msg AS (
  INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, remitente_nombre,
    whatsapp_message_id, whatsapp_context_id, media_id, media_type, media_filename, metadata, "timestamp")
  SELECT conv.id, f.texto, f.tipo, 'entrante', 'contacto', f.nombre, f.wamid, f.context_id,
         f.media_id, f.media_mime, f.media_filename, f.p, f.ts
    FROM f, conv
  ON CONFLICT (whatsapp_message_id) DO NOTHING
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
SELECT EXISTS (SELECT 1 FROM lease) AS leased,
       EXISTS (SELECT 1 FROM gap) AS gap,
       (SELECT greatest(0, extract(epoch FROM head.disponible_at - now()) * 1000)::int FROM head
         WHERE NOT EXISTS (SELECT 1 FROM ev)) AS wait_ms,
       f.id::text AS event_id, f.p AS event, f.dup, f.intento, f.request_id,
       (SELECT wait_ms FROM bump)::float8 AS pickup_ms,
       (SELECT row_to_json(conv) FROM conv) AS conversation,
       coalesce((SELECT id FROM msg), (SELECT m.id FROM mensajes m WHERE m.whatsapp_message_id = f.wamid)) AS message_id,
       coalesce((SELECT json_agg(recent) FROM recent), '[]'::json) AS recent,
       EXISTS (SELECT 1 FROM conversaciones o
                WHERE o.contacto_id = (SELECT id FROM contact) AND o.linea_origen <> f.linea) AS other_lines
  FROM (SELECT 1) AS one LEFT JOIN f ON true`;

interface ContextRow {
  leased: boolean;
  gap: boolean;
  wait_ms: number | null;
  event_id: string | null;
  event: InboundMessageEvent | null;
  request_id: string | null;
  pickup_ms: number | null;
  dup: boolean | null;
  intento: number | null;
  conversation: ConversationRow | null;
  message_id: string | null;
  recent: RecentMessage[];
  other_lines: boolean | null;
}

export async function loadConversationContext(
  db: Queryable,
  convKey: string,
  owner: string,
  leaseMs: number,
  orderWaitMs = 10_000,
): Promise<ContextResult> {
  const res = await db.query<ContextRow>(CONTEXT_SQL, [convKey, owner, leaseMs, orderWaitMs]);
  const row = res.rows[0];
  if (!row || !row.leased) return { status: 'not_leased' };
  if (row.gap) return { status: 'gap' };
  if (row.wait_ms !== null && row.wait_ms !== undefined) return { status: 'backoff', waitMs: Number(row.wait_ms) };
  if (row.event_id === null || row.event === null) return { status: 'empty' };
  if (row.conversation === null || row.message_id === null) {
    throw new AppError('DB_ERROR', 'context query returned no conversation for a pending event', {
      details: { eventId: row.event_id },
    });
  }
  return {
    status: 'event',
    eventId: row.event_id,
    event: typeof row.event === 'string' ? (JSON.parse(row.event) as InboundMessageEvent) : row.event,
    requestId: row.request_id,
    pickupMs: Number(row.pickup_ms ?? 0),
    attempt: Number(row.intento ?? 1),
    duplicate: Boolean(row.dup),
    conversation: typeof row.conversation === 'string' ? JSON.parse(row.conversation) : row.conversation,
    messageId: row.message_id,
    recent: typeof row.recent === 'string' ? JSON.parse(row.recent) : row.recent,
    knownElsewhere: Boolean(row.other_lines),
  };
}
