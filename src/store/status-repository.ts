import type { AppError } from '../errors.js';
import { batchFunction, runBatchFunction } from './batch-function.js';
import type { Queryable } from './db.js';
import { META_ERROR_TEXT, STATUS_SET } from './tick-flags.js';

export type StatusOutcome = 'applied' | 'stale' | 'orphan' | 'ignored' | 'already_done';

/** The status statement up to its final SELECT ($1: the journal event's id); batch-function.ts reuses it. */
const STATUS_CTES = `WITH ev AS (
       SELECT id, wamid, payload FROM router_eventos WHERE id = $1::bigint AND estado = 'pendiente'
     ),
     s AS (
       SELECT ev.id, ev.wamid, router_estado_de_status(ev.payload->>'status') AS estado_envio,
              (ev.payload->'errors'->0->>'code')::int AS err_code,
              ${META_ERROR_TEXT('ev.payload')} AS err_text,
              CASE WHEN ev.payload->>'status' IS NOT NULL THEN jsonb_build_object(ev.payload->>'status',
                to_timestamp((ev.payload->>'timestamp')::double precision)) END AS estados,
              ev.payload->'pricing' AS pricing
         FROM ev
     ),
     target AS (
       SELECT m.id FROM mensajes m JOIN s ON m.whatsapp_message_id = s.wamid
     ),
     upd AS (
       UPDATE mensajes m
          SET ${STATUS_SET('s')}
         FROM s
        WHERE m.whatsapp_message_id = s.wamid AND s.estado_envio IS NOT NULL
          AND router_rango_estado(m.estado_envio) < router_rango_estado(s.estado_envio)
        RETURNING m.id
     ),
     outcome AS (
       SELECT CASE
         WHEN NOT EXISTS (SELECT 1 FROM s) THEN 'already_done'
         WHEN (SELECT estado_envio FROM s) IS NULL THEN 'ignored'
         WHEN EXISTS (SELECT 1 FROM upd) THEN 'applied'
         WHEN EXISTS (SELECT 1 FROM target) THEN 'stale'
         ELSE 'orphan' END AS outcome
     ),
     fin AS (
       UPDATE router_eventos
          SET estado = CASE WHEN (SELECT outcome FROM outcome) = 'orphan' THEN 'huerfano' ELSE 'hecho' END,
              procesado_at = now(), intentos = intentos + 1
        WHERE id = (SELECT id FROM s)
        RETURNING id
     )`;

const STATUS_SELECT = 'SELECT outcome FROM outcome';

/**
 * Applies one journalled status event to its outbound message, monotonically: the rank check sits in
 * the UPDATE's WHERE, which PostgreSQL re-evaluates on the newest row version after waiting for a
 * concurrent writer, so `read` can never be overwritten by a late `delivered`, even in parallel.
 * A status whose message is not (yet) stored is parked as `huerfano`; the outbound sender re-applies
 * parked statuses when it records the wamid Meta returned.
 */
export async function applyStatusEvent(db: Queryable, eventId: string): Promise<StatusOutcome> {
  const res = await db.query<{ outcome: StatusOutcome }>(`${STATUS_CTES}\n${STATUS_SELECT}`, [eventId]);
  return res.rows[0]?.outcome ?? 'already_done';
}

/** The status statement for many events in one round trip and one commit, each failing alone. */
export const STATUS_BATCH = batchFunction({
  prefix: 'router_estados',
  ctes: STATUS_CTES,
  select: STATUS_SELECT,
  perItem: [{ n: 1, type: 'text' }],
  shared: [],
});

export async function applyStatusEvents(
  db: Queryable,
  eventIds: readonly string[],
): Promise<(StatusOutcome | AppError)[]> {
  const rows = await runBatchFunction(
    db,
    STATUS_BATCH,
    eventIds.map((id) => [id]),
    [],
  );
  return rows.map((r) =>
    r instanceof Error ? (r as AppError) : ((r as { outcome?: StatusOutcome } | undefined)?.outcome ?? 'already_done'),
  );
}
