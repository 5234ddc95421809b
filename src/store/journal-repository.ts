import type { InboundEvent } from '../webhook/inbound-event.js';
import type { Queryable } from './db.js';
import { eventKey, conversationKey, eventTimestamp } from '../webhook/event-keys.js';

export interface JournalAppendResult {
  /** Events written now (new), with their journal id. Duplicates of earlier deliveries are absent. */
  inserted: { id: string; kind: InboundEvent['kind']; convKey: string | null }[];
  duplicates: number;
}

/** Kinds that need no processing: they are kept for audit and logged at ingest. */
const FINAL_AT_INGEST = new Set<InboundEvent['kind']>(['error', 'other']);

/**
 * Makes a whole webhook batch durable in ONE statement (one round trip, atomic): either every event
 * of the batch is in the journal or none is, and Meta gets its 200 only after this returns.
 * Idempotent on the event key, so Meta's redeliveries and in-batch duplicates change nothing.
 */
export async function appendToJournal(
  db: Queryable,
  events: readonly InboundEvent[],
  requestId: string,
  /** Queue-mode sequence numbers, parallel to `events`. */
  seqs: readonly (number | null)[] = [],
): Promise<JournalAppendResult> {
  const seen = new Set<string>();
  const rows: Record<string, unknown>[] = [];
  for (const [index, event] of events.entries()) {
    const clave = eventKey(event);
    if (seen.has(clave)) continue;
    seen.add(clave);
    rows.push({
      ord: rows.length,
      clave,
      tipo: event.kind,
      conv_key: conversationKey(event),
      wamid: event.kind === 'message' || event.kind === 'status' ? event.wamid : null,
      linea: event.line?.phoneNumberId ?? null,
      wa_ts: new Date(eventTimestamp(event) * 1000).toISOString(),
      estado: FINAL_AT_INGEST.has(event.kind) ? 'hecho' : 'pendiente',
      payload: event,
      seq: seqs[index] ?? null,
    });
  }
  if (rows.length === 0) return { inserted: [], duplicates: events.length };
  const res = await db.query<{ id: string; tipo: InboundEvent['kind']; conv_key: string | null }>(
    `INSERT INTO router_eventos (clave, tipo, conv_key, wamid, linea, wa_ts, estado, payload, request_id, procesado_at, seq)
     SELECT x.clave, x.tipo, x.conv_key, x.wamid, x.linea, x.wa_ts, x.estado, x.payload, $2,
            CASE WHEN x.estado = 'hecho' THEN now() END, x.seq
       FROM jsonb_to_recordset($1::jsonb) AS x(ord int, clave text, tipo text, conv_key text, wamid text,
                                               linea text, wa_ts timestamptz, estado text, payload jsonb, seq bigint)
      ORDER BY x.ord
     ON CONFLICT (clave) DO NOTHING
     RETURNING id::text AS id, tipo, conv_key`,
    [JSON.stringify(rows), requestId],
  );
  return {
    inserted: res.rows.map((r) => ({ id: r.id, kind: r.tipo, convKey: r.conv_key })),
    duplicates: events.length - res.rows.length,
  };
}

/** Conversations with pending events and no live lease: crash leftovers and hand-over gaps. */
export async function findUnclaimedConversations(db: Queryable, limit: number): Promise<string[]> {
  const res = await db.query<{ conv_key: string }>(
    `SELECT DISTINCT e.conv_key
       FROM router_eventos e
      WHERE e.estado = 'pendiente' AND e.conv_key IS NOT NULL AND e.disponible_at <= now()
        AND NOT EXISTS (SELECT 1 FROM router_locks l WHERE l.conv_key = e.conv_key AND l.hasta > now())
      LIMIT $1`,
    [limit],
  );
  return res.rows.map((r) => r.conv_key);
}

/** Status events still pending a while after ingest (the ingesting process died before applying them). */
export async function findStaleStatuses(db: Queryable, olderThanMs: number, limit: number): Promise<string[]> {
  const res = await db.query<{ id: string }>(
    `SELECT id::text AS id FROM router_eventos
      WHERE estado = 'pendiente' AND tipo = 'status' AND recibido_at < now() - $1 * interval '1 millisecond'
      ORDER BY id LIMIT $2`,
    [olderThanMs, limit],
  );
  return res.rows.map((r) => r.id);
}

/** Drops finished journal rows past the retention (longer than Meta's redelivery window). */
export async function pruneJournal(db: Queryable, retentionDays: number): Promise<number> {
  const res = await db.query(
    `DELETE FROM router_eventos WHERE estado IN ('hecho', 'huerfano') AND recibido_at < now() - $1 * interval '1 day'`,
    [retentionDays],
  );
  return res.rowCount;
}
