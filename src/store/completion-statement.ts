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
  const writes = c.writes ? p.add(JSON.stringify(c.writes)) : null;
  return {
    text: completionText(profile, { event, conv, owner, writes, media: c.mediaJob ? 'true' : null }),
    values: p.values,
  };
}

/**
 * The one shape that serves every completion: the routing writes' placeholder may hold NULL (every
 * routing CTE is guarded by what the writes carry) and the media job has a boolean switch. The batch
 * form (completion-batch.ts) runs it per item: `$1` event id, `$2` conversation key, `$3` owner,
 * `$4` the writes as JSON text or NULL, `$5` whether to create the media job.
 */
export function universalCompletion(profile: SchemaProfile): { ctes: string; select: string } {
  return completionParts(profile, { event: '$1', conv: '$2', owner: '$3', writes: '$4', media: '$5' });
}

function completionText(profile: SchemaProfile, ph: Placeholders): string {
  const { ctes, select } = completionParts(profile, ph);
  return `${ctes}\n${select}`;
}

interface Placeholders {
  event: string;
  conv: string;
  owner: string;
  writes: string | null;
  media: string | null;
}

function completionParts(profile: SchemaProfile, ph: Placeholders): { ctes: string; select: string } {
  const { event, conv, owner } = ph;
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
  if (ph.writes) ctes.push(routingWritesCtes(profile, ph.writes));
  if (ph.media) ctes.push(mediaJobCte(event, ph.media));
  return {
    ctes: `WITH ${ctes.join(',\n')}`,
    select: 'SELECT EXISTS (SELECT 1 FROM done) AS committed, (SELECT more FROM more) AS more',
  };
}
