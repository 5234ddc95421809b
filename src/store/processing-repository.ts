import { completionStatement, type Completion } from './completion-statement.js';
import type { Backoff } from '../shared/backoff.js';
import type { Queryable } from './db.js';
import type { SchemaProfile } from './schema-profile.js';

export interface CompletionResult {
  /** False when the lease was lost (another worker took over): nothing was written. */
  committed: boolean;
  /** More pending events remain for this conversation (the lease is kept for them). */
  more: boolean;
}

/**
 * Marks a journal event done with everything its processing decided, and gives the lease back when
 * nothing else is pending for the conversation — one statement (completion-statement.ts). Fenced by
 * the lease: a worker that lost its lease writes nothing.
 */
export async function completeEvent(
  db: Queryable,
  completion: Completion,
  profile: SchemaProfile,
): Promise<CompletionResult> {
  const { text, values } = completionStatement(completion, profile);
  const res = await db.query<{ committed: boolean; more: boolean }>(text, values);
  const row = res.rows[0];
  return { committed: Boolean(row?.committed), more: Boolean(row?.more) };
}

/**
 * Records a failed attempt. Past `maxAttempts` the event is dead-lettered (`muerto`, with its error)
 * so one poison message cannot block its conversation; the lease is given back either way so the
 * conversation moves on (or the retry is picked up after the backoff).
 */
export async function failEvent(
  db: Queryable,
  args: { eventId: string; convKey: string; owner: string; error: string; maxAttempts: number; backoffMs: number },
): Promise<{ dead: boolean }> {
  const res = await db.query<{ dead: boolean }>(
    `WITH upd AS (
       UPDATE router_eventos
          SET error = left($4, 2000),
              estado = CASE WHEN intentos >= $5 THEN 'muerto' ELSE estado END,
              procesado_at = CASE WHEN intentos >= $5 THEN now() ELSE procesado_at END,
              disponible_at = now() + $6 * interval '1 millisecond'
        WHERE id = $1::bigint AND estado = 'pendiente'
        RETURNING estado, seq
     ),
     released AS (
       DELETE FROM router_locks WHERE conv_key = $2 AND owner = $3 RETURNING 1
     ),
     -- Queue mode: a dead event moves the conversation's sequence on.
     seq_done AS (
       INSERT INTO router_conv_seq AS s (conv_key, ultimo_seq)
       SELECT $2, upd.seq FROM upd WHERE upd.estado = 'muerto' AND upd.seq IS NOT NULL
       ON CONFLICT (conv_key) DO UPDATE SET ultimo_seq = greatest(s.ultimo_seq, excluded.ultimo_seq), updated_at = now()
       RETURNING 1
     )
     SELECT coalesce((SELECT estado = 'muerto' FROM upd), false) AS dead`,
    [args.eventId, args.convKey, args.owner, args.error, args.maxAttempts, args.backoffMs],
  );
  return { dead: Boolean(res.rows[0]?.dead) };
}

export interface FailedAttempt {
  eventId: string;
  /** Attempts of the event including this one. */
  attempt: number;
  dead: boolean;
  /** When the event may be tried again (0 when dead). */
  backoffMs: number;
}

/**
 * Counts a failed attempt of the conversation's next event when the context statement itself failed
 * (a CRM trigger or constraint, an index row PostgreSQL refuses, a lost create race). That statement
 * counts attempts too, but its failure rolled its count back with everything else, so the event used
 * to stay `pendiente` with 0 attempts and be retried forever; this separate statement's count stays.
 * Past `maxAttempts` the event is dead-lettered so the conversation moves on. Only the failure path
 * runs it: a message that succeeds still costs the context query and the completion only.
 *
 * The event is the one the context statement took: the oldest pending one, if due. Fenced like the
 * context statement: nothing is charged while another worker holds a live lease. The retry waits
 * `backoff` (shared/backoff.ts's shape, computed here from the row's own attempt count; base 0 =
 * retry at once, for a lost create race).
 */
export async function recordFailedAttempt(
  db: Queryable,
  args: { convKey: string; owner: string; error: string; maxAttempts: number; backoff: Backoff },
): Promise<FailedAttempt | null> {
  const res = await db.query<{ id: string; intentos: number; dead: boolean; backoff_ms: number }>(
    `WITH head AS (
       SELECT e.id FROM router_eventos e
        WHERE e.conv_key = $1 AND e.estado = 'pendiente'
          AND NOT EXISTS (SELECT 1 FROM router_locks l WHERE l.conv_key = $1 AND l.owner <> $2 AND l.hasta > now())
        ORDER BY e.wa_ts, e.id
        LIMIT 1
     ),
     upd AS (
       UPDATE router_eventos e
          SET intentos = e.intentos + 1,
              error = left($3, 2000),
              estado = CASE WHEN e.intentos + 1 >= $4 THEN 'muerto' ELSE e.estado END,
              procesado_at = CASE WHEN e.intentos + 1 >= $4 THEN now() ELSE e.procesado_at END,
              procesado_por = $2,
              disponible_at = now() + least($6, $5 * 2 ^ least(e.intentos, 30)) * interval '1 millisecond'
        -- Re-checked against a concurrent writer's commit: an event another worker just finished is left alone.
        -- A head still in backoff was not what failed (the context statement would not have taken it).
        WHERE e.id = (SELECT id FROM head) AND e.estado = 'pendiente' AND e.disponible_at <= now()
        RETURNING e.id, e.intentos, e.estado, e.seq, least($6, $5 * 2 ^ least(e.intentos - 1, 30)) AS backoff_ms
     ),
     released AS (
       DELETE FROM router_locks WHERE conv_key = $1 AND owner = $2 RETURNING 1
     ),
     -- Queue mode: a dead event moves the conversation's sequence on, as failEvent does.
     seq_done AS (
       INSERT INTO router_conv_seq AS s (conv_key, ultimo_seq)
       SELECT $1, upd.seq FROM upd WHERE upd.estado = 'muerto' AND upd.seq IS NOT NULL
       ON CONFLICT (conv_key) DO UPDATE SET ultimo_seq = greatest(s.ultimo_seq, excluded.ultimo_seq), updated_at = now()
       RETURNING 1
     )
     SELECT id::text AS id, intentos, estado = 'muerto' AS dead, backoff_ms::float8 AS backoff_ms FROM upd`,
    [args.convKey, args.owner, args.error, args.maxAttempts, args.backoff.baseMs, args.backoff.capMs],
  );
  const row = res.rows[0];
  if (!row) return null;
  return {
    eventId: row.id,
    attempt: Number(row.intentos),
    dead: Boolean(row.dead),
    backoffMs: row.dead ? 0 : Number(row.backoff_ms),
  };
}

/** Gives a lease back (nothing was pending, or the process is shutting down). */
export async function releaseLease(db: Queryable, convKey: string, owner: string): Promise<void> {
  await db.query('DELETE FROM router_locks WHERE conv_key = $1 AND owner = $2', [convKey, owner]);
}

/** Shutdown: every lease this process holds goes back at once, so another process need not wait. */
export async function releaseAllLeases(db: Queryable, owner: string): Promise<number> {
  const res = await db.query('DELETE FROM router_locks WHERE owner = $1', [owner]);
  return res.rowCount;
}
