import { mediaJobCte } from './media-repository.js';
import { routingWritesCtes, type RoutingWrites } from './routing-writes.js';
import type { SchemaProfile } from './schema-profile.js';
import { SqlParams } from './sql-params.js';

/** What finishing one journal event commits. */
export interface Completion {
  eventId: string;
  convKey: string;
  /** The lease holder: a worker that lost its lease writes nothing. */
  owner: string;
  /** The routing decision's writes (conversation state, replies, ticket, notification), if any. */
  writes?: RoutingWrites | null;
  /** Create the download job of the event's message when it carries media. */
  mediaJob?: boolean;
}

export interface Statement {
  text: string;
  values: unknown[];
}

/**
 * The whole completion statement, built in one place: mark the event done (fenced by the lease),
 * give the lease back when nothing else is pending, move queue mode's sequence on, and — guarded by
 * `done` — the routing writes and the media job. Each piece gets the placeholders of the values it
 * uses from SqlParams, so the numbering lives here and nowhere else.
 */
export function completionStatement(c: Completion, profile: SchemaProfile): Statement {
  const p = new SqlParams();
  const event = p.add(c.eventId);
  const conv = p.add(c.convKey);
  const owner = p.add(c.owner);
  const ctes = [
    `done AS (
       UPDATE router_eventos SET estado = 'hecho', procesado_at = clock_timestamp(), error = NULL
        WHERE id = ${event}::bigint AND estado = 'pendiente'
          AND EXISTS (SELECT 1 FROM router_locks WHERE conv_key = ${conv} AND owner = ${owner})
        RETURNING id, seq
     )`,
    `more AS (
       SELECT EXISTS (SELECT 1 FROM router_eventos
                       WHERE conv_key = ${conv} AND estado = 'pendiente' AND id <> ${event}::bigint) AS more
     )`,
    `released AS (
       DELETE FROM router_locks
        WHERE conv_key = ${conv} AND owner = ${owner} AND NOT (SELECT more FROM more) AND EXISTS (SELECT 1 FROM done)
        RETURNING 1
     )`,
    // Queue mode: a finished event moves the conversation's sequence forward.
    `seq_done AS (
       INSERT INTO router_conv_seq AS s (conv_key, ultimo_seq)
       SELECT ${conv}, done.seq FROM done WHERE done.seq IS NOT NULL
       ON CONFLICT (conv_key) DO UPDATE SET ultimo_seq = greatest(s.ultimo_seq, excluded.ultimo_seq), updated_at = now()
       RETURNING 1
     )`,
  ];
  if (c.writes) ctes.push(routingWritesCtes(profile, p.add(JSON.stringify(c.writes))));
  if (c.mediaJob) ctes.push(mediaJobCte(event));
  return {
    text: `WITH ${ctes.join(',\n')}
     SELECT EXISTS (SELECT 1 FROM done) AS committed, (SELECT more FROM more) AS more`,
    values: p.values,
  };
}
