import type { Queryable } from './db.js';

export interface DeadEvent {
  id: string;
  tipo: string;
  wamid: string | null;
  conv_key: string | null;
  intentos: number;
  error: string | null;
  procesado_at: string | null;
}

/** Journal events that exhausted their attempts (`muerto`), newest first. */
export async function listDeadEvents(db: Queryable, limit = 100): Promise<DeadEvent[]> {
  const res = await db.query<DeadEvent>(
    `SELECT id::text AS id, tipo, wamid, conv_key, intentos, error, procesado_at
       FROM router_eventos WHERE estado = 'muerto' ORDER BY procesado_at DESC NULLS LAST LIMIT $1`,
    [limit],
  );
  return res.rows;
}

/**
 * Puts dead events back to pending with a fresh attempt budget (after the cause was fixed). `ids`
 * null = all of them. Returns the replayed rows so the caller can schedule them at once.
 */
export async function replayDeadEvents(
  db: Queryable,
  ids: string[] | null,
): Promise<{ id: string; kind: string; convKey: string | null }[]> {
  const res = await db.query<{ id: string; tipo: string; conv_key: string | null }>(
    `UPDATE router_eventos SET estado = 'pendiente', intentos = 0, error = NULL, disponible_at = now(), procesado_at = NULL
      WHERE estado = 'muerto' AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))
      RETURNING id::text AS id, tipo, conv_key`,
    [ids],
  );
  return res.rows.map((r) => ({ id: r.id, kind: r.tipo, convKey: r.conv_key }));
}
