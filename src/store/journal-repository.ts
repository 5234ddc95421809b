import type { InboundEvent } from '../webhook/inbound-event.js';
import { TimeSlicer } from '../shared/time-slicer.js';
import type { Db, Queryable } from './db.js';
import { eventKey, conversationKey, eventTimestamp } from '../webhook/event-keys.js';
import { BEST_STATUS_PER_WAMID, STATUS_SET } from './tick-flags.js';

export interface JournalAppendResult {
  /** Events written now (new), with their journal id. Duplicates of earlier deliveries are absent. */
  inserted: { id: string; kind: InboundEvent['kind']; convKey: string | null }[];
  /** The new events still to be processed (messages); statuses were applied by the insert itself. */
  pending: { id: string; kind: InboundEvent['kind']; convKey: string | null }[];
  duplicates: number;
}

/** Kinds that need no processing: they are kept for audit and logged at ingest. */
const FINAL_AT_INGEST = new Set<InboundEvent['kind']>(['error', 'other']);

/**
 * Status events are applied to their outbound message in the very statement that journals them:
 * they are two thirds of Meta's traffic (sent, delivered, read for every reply), so a separate
 * processing round trip each would dominate the database load. Per wamid the batch's best status
 * wins (monotonic rank check in the UPDATE's WHERE, re-evaluated against concurrent writers); all
 * their timestamps are kept in metadata.estados. A status whose message is not stored yet is
 * journalled as `huerfano` and applied when the sender records that wamid.
 * One statement can journal several webhook requests (journal-batcher.ts): a row of another request
 * than $2's carries its own request_id; the status CTEs then pick the best status per wamid across
 * all of them.
 */
const JOURNAL_INSERT_SQL = `
WITH x AS (
  SELECT x.*
    FROM jsonb_to_recordset($1::jsonb) AS x(ord int, clave text, tipo text, conv_key text, wamid text, linea text,
                                            wa_ts timestamptz, estado text, payload jsonb, seq bigint, request_id text)
),
known AS (
  SELECT DISTINCT m.whatsapp_message_id FROM mensajes m JOIN x ON x.tipo = 'status' AND m.whatsapp_message_id = x.wamid
),
ins AS (
  INSERT INTO router_eventos (clave, tipo, conv_key, wamid, linea, wa_ts, estado, payload, request_id, procesado_at, seq, intentos)
  SELECT x.clave, x.tipo, x.conv_key, x.wamid, x.linea, x.wa_ts,
         CASE WHEN x.tipo <> 'status' THEN x.estado
              WHEN EXISTS (SELECT 1 FROM known k WHERE k.whatsapp_message_id = x.wamid) THEN 'hecho'
              ELSE 'huerfano' END,
         x.payload, coalesce(x.request_id, $2),
         CASE WHEN x.estado = 'hecho' OR x.tipo = 'status' THEN now() END, x.seq,
         CASE WHEN x.tipo = 'status' THEN 1 ELSE 0 END
    FROM x
   ORDER BY x.ord
  ON CONFLICT (clave) DO NOTHING
  RETURNING id, clave, tipo, conv_key, wamid, estado, payload
),
st AS (${BEST_STATUS_PER_WAMID(`SELECT i.wamid, i.payload FROM ins i WHERE i.tipo = 'status' AND i.estado = 'hecho'`)}
),
applied AS (
  UPDATE mensajes m
     SET ${STATUS_SET('st')}
    FROM st
   WHERE m.whatsapp_message_id = st.wamid
     AND router_rango_estado(m.estado_envio) < router_rango_estado(st.estado_envio)
  RETURNING m.id
)
SELECT id::text AS id, clave, tipo, conv_key, estado FROM ins`;

/** Rows per journal statement: a 5 MB batch (50,000 statuses) becomes 50 statements in one transaction. */
export const JOURNAL_SLICE_ROWS = 1_000;

/**
 * Makes a whole webhook batch durable atomically: either every event of the batch is in the journal
 * or none is, and Meta gets its 200 only after this returns. A batch of up to JOURNAL_SLICE_ROWS
 * events (every batch Meta sends in practice) is ONE statement, one round trip; a bigger one is
 * sliced into such statements inside one transaction, because serialising 50,000 rows as one
 * parameter held the event loop for half a second (`slicer` gives it back between slices).
 * Idempotent on the event key, so Meta's redeliveries and in-batch duplicates change nothing.
 */
export async function appendToJournal(
  db: Db,
  events: readonly InboundEvent[],
  requestId: string,
  /** Queue-mode sequence numbers, parallel to `events`. */
  seqs: readonly (number | null)[] = [],
  slicer: TimeSlicer = new TimeSlicer(),
): Promise<JournalAppendResult> {
  const rows = await distinctJournalRows(events, seqs, slicer);
  const result: JournalAppendResult = { inserted: [], pending: [], duplicates: events.length };
  if (rows.length === 0) return result;
  // Collected slice by slice: mapping 50,000 rows at the end was itself a stall.
  const insertSlice = async (q: Queryable, slice: JournalRow[]) => {
    for (const r of await runJournalStatement(q, slice, requestId)) {
      const row = { id: r.id, kind: r.tipo, convKey: r.conv_key };
      result.inserted.push(row);
      if (r.estado === 'pendiente') result.pending.push(row);
    }
  };
  if (rows.length <= JOURNAL_SLICE_ROWS) {
    await insertSlice(db, rows);
  } else {
    await db.transaction(async (tx) => {
      for (let at = 0; at < rows.length; at += JOURNAL_SLICE_ROWS) {
        await slicer.pauseIfDue();
        await insertSlice(tx, rows.slice(at, at + JOURNAL_SLICE_ROWS));
      }
    });
  }
  result.duplicates = events.length - result.inserted.length;
  return result;
}

/** One journal row as the statement's jsonb array carries it (`ord` is set per statement). */
export interface JournalRow {
  ord: number;
  clave: string;
  tipo: InboundEvent['kind'];
  conv_key: string | null;
  wamid: string | null;
  linea: string | null;
  wa_ts: string;
  estado: 'hecho' | 'pendiente';
  payload: InboundEvent;
  seq: number | null;
  /** Only on rows whose request is not the statement's `$2` (a shared statement's other requests). */
  request_id?: string;
}

/** A row the statement wrote (absent: its key was already journalled). */
export interface JournalWritten {
  id: string;
  clave: string;
  tipo: InboundEvent['kind'];
  conv_key: string | null;
  estado: string;
}

/**
 * The events' journal rows in order, a key sent twice in the batch kept once (its first time).
 * With a `slicer`, a long batch gives the event loop back as it goes.
 */
export async function distinctJournalRows(
  events: readonly InboundEvent[],
  seqs: readonly (number | null)[] = [],
  slicer?: TimeSlicer,
): Promise<JournalRow[]> {
  const seen = new Set<string>();
  const rows: JournalRow[] = [];
  for (const [index, event] of events.entries()) {
    if (slicer?.due) await slicer.pause();
    const row = journalRow(event, seqs[index] ?? null);
    if (seen.has(row.clave)) continue;
    seen.add(row.clave);
    rows.push(row);
  }
  return rows;
}

export function journalRow(event: InboundEvent, seq: number | null = null): JournalRow {
  return {
    ord: 0,
    clave: eventKey(event),
    tipo: event.kind,
    conv_key: conversationKey(event),
    wamid: event.kind === 'message' || event.kind === 'status' ? event.wamid : null,
    linea: event.line?.phoneNumberId ?? null,
    wa_ts: new Date(eventTimestamp(event) * 1000).toISOString(),
    estado: FINAL_AT_INGEST.has(event.kind) ? 'hecho' : 'pendiente',
    payload: event,
    seq,
  };
}

/**
 * ONE journal statement for rows with distinct keys (at most JOURNAL_SLICE_ROWS), written in the
 * order given: `ord` is renumbered here, so callers may concatenate rows of several requests. Rows
 * without their own `request_id` are journalled under `requestId`.
 */
export async function runJournalStatement(
  q: Queryable,
  rows: readonly JournalRow[],
  requestId: string,
): Promise<JournalWritten[]> {
  rows.forEach((row, i) => (row.ord = i));
  const res = await q.query<JournalWritten>(JOURNAL_INSERT_SQL, [JSON.stringify(rows), requestId]);
  return res.rows;
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

/**
 * Deletes up to `limit` finished journal rows (`hecho`, and `huerfano` statuses whose message never
 * came) received more than `retentionDays` ago — one batch, so no statement holds many row locks or
 * runs long; the caller repeats while batches come back full (conversations/journal-pruner.ts).
 * Pending and dead (`muerto`) rows are never touched. SKIP LOCKED: processes pruning at once take
 * different rows instead of waiting on each other, and a row being written is left for later.
 * Retention must exceed Meta's redelivery window, since the journal is where redeliveries collapse.
 */
export async function pruneJournal(db: Queryable, retentionDays: number, limit: number): Promise<number> {
  const res = await db.query(
    `DELETE FROM router_eventos WHERE id IN (
       SELECT id FROM router_eventos
        WHERE recibido_at < now() - $1 * interval '1 day' AND estado IN ('hecho', 'huerfano')
        LIMIT $2
        FOR UPDATE SKIP LOCKED)`,
    [retentionDays, limit],
  );
  return res.rowCount;
}
