import type { Queryable } from './db.js';
import { BEST_STATUS_PER_WAMID, STATUS_SET } from './tick-flags.js';

export interface OutboxItem {
  id: string;
  canal: 'whatsapp' | 'inbox';
  mensaje_id: string | null;
  linea: string | null;
  destinatario: string;
  payload: Record<string, unknown>;
  intentos: number;
  /** End of the conversation's customer-service window (24 h, or 72 h after an ad), ISO. */
  ventana_fin: string | null;
}

/**
 * Claims up to `limit` sendable rows for this owner. Only the head (oldest unfinished row) of each
 * `orden_key` is eligible, so one recipient never has two messages in flight and order holds even
 * across processes; a claim is a lease (`hasta`) that another sender may take over once expired.
 * The UPDATE re-checks the row after any concurrent claim, so two senders never get the same row.
 */
export async function claimOutbox(
  db: Queryable,
  args: {
    owner: string;
    limit: number;
    leaseMs: number;
    channels: string[];
    /** How long past its end another sender's claim must be before this one takes it over (null: not now). */
    takeOverAfterMs?: number | null;
  },
): Promise<OutboxItem[]> {
  const res = await db.query<OutboxItem>(
    `WITH heads AS (
       SELECT DISTINCT ON (orden_key) id, estado, disponible_at, hasta, canal
         FROM router_outbox
        WHERE estado IN ('pendiente', 'enviando')
        ORDER BY orden_key, id
     ),
     pick AS (
       SELECT id FROM heads
        WHERE canal = ANY($4::text[])
          AND ((estado = 'pendiente' AND disponible_at <= now()) OR (estado = 'enviando' AND $5::float8 IS NOT NULL AND hasta < now() - $5::float8 * interval '1 millisecond'))
        ORDER BY id
        LIMIT $2
     ),
     claimed AS (
       UPDATE router_outbox o
          SET estado = 'enviando', owner = $1, hasta = now() + $3 * interval '1 millisecond', intentos = o.intentos + 1
         FROM pick
        WHERE o.id = pick.id AND (o.estado = 'pendiente' OR (o.estado = 'enviando' AND $5::float8 IS NOT NULL AND o.hasta < now() - $5::float8 * interval '1 millisecond'))
        RETURNING o.id, o.canal, o.mensaje_id, o.linea, o.destinatario, o.payload, o.intentos, o.conversacion_id
     )
     SELECT c.id::text AS id, c.canal, c.mensaje_id, c.linea, c.destinatario, c.payload, c.intentos,
            greatest(cv.ventana_24h_fin, cv.ventana_72h_fin) AS ventana_fin
       FROM claimed c LEFT JOIN conversaciones cv ON cv.id = c.conversacion_id
      ORDER BY c.id`,
    [
      args.owner,
      args.limit,
      args.leaseMs,
      args.channels,
      args.takeOverAfterMs === undefined ? 0 : args.takeOverAfterMs,
    ],
  );
  return res.rows.map((r) => ({ ...r, payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload }));
}

/**
 * Meta accepted the message: record its wamid on the outbox row and the `saliente` message, with
 * the statuses that arrived before we knew the wamid (parked as `huerfano`); ids of parked statuses
 * revived instead are returned so the caller can apply them. One row of {@link recordSentMany}.
 */
export async function recordSent(db: Queryable, id: string, owner: string, wamid: string | null): Promise<string[]> {
  const revived = await recordSentMany(db, owner, [{ id, wamid }]);
  return revived.map((r) => r.id);
}

export interface SentRecord {
  id: string;
  /** Meta's (or the transport's) message id; null for a row not sent (dry run): `omitido`. */
  wamid: string | null;
}

export interface RevivedStatus {
  /** The `router_eventos` row put back to `pendiente`. */
  id: string;
  /** The outbox row whose wamid it carries. */
  outboxId: string;
}

/**
 * Records many accepted sends in one statement, each row exactly as a record of its own would:
 * the outbox row becomes `enviado` (or `omitido` without a wamid), its message gets the wamid and
 * the statuses parked for it (orphans that overtook the record). Orphans whose message could not
 * take the wamid are revived instead and returned with the outbox row they belong to.
 *
 * Rows of one statement cannot see each other's writes, so two items with the same wamid (never
 * expected) are settled here as they would be one after the other: only the first one's message
 * takes it — the unique wamid index (mensajes_wamid_unico) would otherwise fail the whole statement.
 */
export async function recordSentMany(
  db: Queryable,
  owner: string,
  items: readonly SentRecord[],
): Promise<RevivedStatus[]> {
  if (items.length === 0) return [];
  const res = await db.query<{ id: string; outbox_id: string }>(
    `WITH items AS (
       SELECT DISTINCT ON (i.id) i.id, i.wamid, i.ord
         FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY AS i(id, wamid, ord)
        ORDER BY i.id, i.ord
     ),
     ob AS (
       UPDATE router_outbox o SET estado = CASE WHEN i.wamid IS NULL THEN 'omitido' ELSE 'enviado' END,
              wamid = i.wamid, enviado_at = now(), hasta = NULL, error = NULL, error_codigo = NULL
         FROM items i
        -- Ours, or taken over after our claim expired while the database was away: we did send it,
        -- so record it either way (the taker may be sending a duplicate right now; nothing to do).
        WHERE o.id = i.id AND o.estado IN ('enviando', 'pendiente') AND (o.owner = $1 OR i.wamid IS NOT NULL)
        RETURNING o.id, o.mensaje_id, o.wamid, i.ord
     ),
     first_by_wamid AS (
       SELECT DISTINCT ON (wamid) mensaje_id, wamid FROM ob
        WHERE wamid IS NOT NULL AND mensaje_id IS NOT NULL
        ORDER BY wamid, ord
     ),
     -- Statuses Meta sent before this record (parked as huerfano): the best of each wamid is applied
     -- in the very UPDATE that gives the message its wamid, instead of a revival and a status round
     -- trip each; at load about a third of the "sent" statuses overtake the record of their send.
     parked AS (${BEST_STATUS_PER_WAMID(`SELECT e.wamid, e.payload FROM router_eventos e
        WHERE e.estado = 'huerfano' AND e.wamid IN (SELECT wamid FROM first_by_wamid)`)}
     ),
     msg AS (
       -- The ticks come from Meta's own statuses (sent ✓ is Meta's word, not ours): the wamid alone,
       -- unless a status of it is parked.
       UPDATE mensajes m
          SET whatsapp_message_id = f.wamid,
              ${STATUS_SET('p', 'router_rango_estado(m.estado_envio) < router_rango_estado(p.estado_envio)')}
         FROM first_by_wamid f LEFT JOIN parked p ON p.wamid = f.wamid
        WHERE m.id = f.mensaje_id
          -- An Evolution line may echo our own send as a fromMe message before this records it;
          -- the id then already sits on that row, and taking it would fail this record for ever.
          AND NOT EXISTS (SELECT 1 FROM mensajes x WHERE x.whatsapp_message_id = f.wamid)
        RETURNING m.id, f.wamid
     ),
     settled AS (
       UPDATE router_eventos e SET estado = 'hecho', procesado_at = now(), intentos = e.intentos + 1
        WHERE e.estado = 'huerfano' AND e.wamid IN (SELECT wamid FROM msg)
        RETURNING e.id
     ),
     -- A wamid whose message did not take it here (no message row, or an echo holds it): its parked
     -- statuses go back to the status path, as they would without this statement.
     revived AS (
       UPDATE router_eventos e SET estado = 'pendiente', disponible_at = now()
        WHERE e.estado = 'huerfano' AND e.wamid IN (SELECT wamid FROM ob WHERE wamid IS NOT NULL)
          AND e.wamid NOT IN (SELECT wamid FROM msg)
        RETURNING e.id, e.wamid
     )
     SELECT r.id::text AS id,
            (SELECT ob.id FROM ob WHERE ob.wamid = r.wamid ORDER BY ob.ord LIMIT 1)::text AS outbox_id
       FROM revived r`,
    [owner, items.map((i) => i.id), items.map((i) => i.wamid)],
  );
  return res.rows.map((r) => ({ id: r.id, outboxId: r.outbox_id }));
}

/** A failed attempt: back to `pendiente` after `backoffMs`, or `fallido` for good (also on the message). */
export async function recordFailure(
  db: Queryable,
  args: { id: string; owner: string; retry: boolean; backoffMs: number; code: number | null; error: string },
): Promise<void> {
  await db.query(
    `WITH ob AS (
       UPDATE router_outbox
          SET estado = CASE WHEN $3 THEN 'pendiente' ELSE 'fallido' END,
              disponible_at = now() + $4 * interval '1 millisecond', hasta = NULL,
              error_codigo = $5, error = left($6, 1000)
        WHERE id = $1::bigint AND owner = $2 AND estado = 'enviando'
        RETURNING mensaje_id
     )
     UPDATE mensajes SET estado_envio = 'failed', fallido = true, error_codigo = $5, error_mensaje = left($6, 1000)
      WHERE NOT $3 AND id = (SELECT mensaje_id FROM ob)`,
    [args.id, args.owner, args.retry, args.backoffMs, args.code, args.error],
  );
}

/**
 * Statuses parked as orphans whose message is now known (the wamid was recorded by a statement
 * that could not yet see them): put back to pending for the status path. Run by the sweeper.
 */
export async function reviveKnownOrphans(db: Queryable): Promise<string[]> {
  const res = await db.query<{ id: string }>(
    `UPDATE router_eventos e SET estado = 'pendiente', disponible_at = now()
      WHERE e.estado = 'huerfano' AND e.recibido_at > now() - interval '7 days'
        AND EXISTS (SELECT 1 FROM mensajes m WHERE m.whatsapp_message_id = e.wamid)
      RETURNING e.id::text AS id`,
  );
  return res.rows.map((r) => r.id);
}
