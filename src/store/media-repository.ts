import type { Queryable } from './db.js';

/**
 * `router_media_jobs`: one row per inbound media message, drained by src/media/media-downloader.ts.
 * Claims are leases (`owner`, `hasta`) like the outbox's, so several processes can drain together
 * and a crashed downloader's jobs are taken over once its claim expires.
 */

/**
 * A CTE for the completion statement (completion-statement.ts): when the event's message carries
 * media, its download job is created in the same atomic statement that marks the event done — no
 * extra round trip, and no job without a committed message. `eventId` is the placeholder of the
 * event's id; guarded by `done`, so a worker that lost its lease creates nothing. A redelivery finds
 * the job already there.
 */
/** `guard`: placeholder of a boolean that must hold too (the batch form's per-item switch). */
export const mediaJobCte = (eventId: string, guard = 'true'): string => `
media_job AS (
  INSERT INTO router_media_jobs (mensaje_id, media_id, tipo, mime_type, sha256, filename)
  SELECT m.id, e.payload->'media'->>'id', e.payload->>'type', e.payload->'media'->>'mimeType',
         e.payload->'media'->>'sha256', e.payload->'media'->>'filename'
    FROM router_eventos e
    JOIN mensajes m ON m.whatsapp_message_id = e.wamid
   WHERE e.id = ${eventId}::bigint AND jsonb_typeof(e.payload->'media') = 'object'
     AND e.payload->'media'->>'id' IS NOT NULL AND EXISTS (SELECT 1 FROM done) AND ${guard}
  ON CONFLICT (mensaje_id) DO NOTHING
  RETURNING id
)`;

export interface MediaJob {
  id: string;
  mensaje_id: string;
  media_id: string;
  tipo: string | null;
  mime_type: string | null;
  sha256: string | null;
  filename: string | null;
  /** Attempts including this one. */
  intentos: number;
  created_at: Date;
}

/** Claims up to `limit` due jobs (waiting past their backoff, or whose claim expired). */
export async function claimMediaJobs(
  db: Queryable,
  args: { owner: string; limit: number; leaseMs: number },
): Promise<MediaJob[]> {
  const res = await db.query<Omit<MediaJob, 'created_at'> & { created_at: string | Date }>(
    `WITH pick AS (
       SELECT id FROM router_media_jobs
        WHERE (estado = 'pendiente' AND disponible_at <= now()) OR (estado = 'descargando' AND hasta < now())
        ORDER BY disponible_at, id
        LIMIT $2
        FOR UPDATE SKIP LOCKED
     )
     UPDATE router_media_jobs j
        SET estado = 'descargando', owner = $1, hasta = now() + $3 * interval '1 millisecond', intentos = j.intentos + 1
       FROM pick
      WHERE j.id = pick.id
     RETURNING j.id::text AS id, j.mensaje_id, j.media_id, j.tipo, j.mime_type, j.sha256, j.filename, j.intentos, j.created_at`,
    [args.owner, args.limit, args.leaseMs],
  );
  return res.rows.map((r) => ({ ...r, created_at: new Date(r.created_at) }));
}

export interface StoredMediaRecord {
  id: string;
  owner: string;
  storage: 'local' | 'supabase';
  key: string;
  url: string;
  mimeType: string | null;
  /** File name shown in the CRM when the customer sent none (images, audio…). */
  filename: string;
  size: number;
  /** Hex SHA-256 of the stored bytes. */
  sha256: string;
}

/**
 * The file is stored: ONE statement marks the job done and fills the message's media columns.
 * Fenced by the claim; false when another downloader took the job over meanwhile (nothing written).
 */
export async function completeMediaJob(db: Queryable, r: StoredMediaRecord): Promise<boolean> {
  const res = await db.query(
    `WITH job AS (
       UPDATE router_media_jobs
          SET estado = 'hecho', done_at = now(), hasta = NULL, error = NULL, storage = $3, storage_key = $4, url = $5
        WHERE id = $1::bigint AND owner = $2 AND estado = 'descargando'
        RETURNING mensaje_id
     )
     -- media_url keeps the router's link written with the message (it now serves this file); a row
     -- stored without one (no public URL known then) gets the store's URL.
     UPDATE mensajes m
        SET media_url = coalesce(m.media_url, $5), media_type = coalesce(m.media_type, router_media_type(m.tipo)),
            media_filename = coalesce(m.media_filename, $6), media_size = $7, media_sha256 = $8, media_error = NULL
      WHERE m.id = (SELECT mensaje_id FROM job)`,
    [r.id, r.owner, r.storage, r.key, r.url, r.filename, r.size, r.sha256],
  );
  return res.rowCount === 1;
}

/**
 * A failed attempt: back to `pendiente` after `backoffMs`, or `fallido` for good — then the message
 * (always kept) gets `media_error` so the CRM can say why there is no file.
 */
export async function failMediaJob(
  db: Queryable,
  args: { id: string; owner: string; retry: boolean; backoffMs: number; error: string },
): Promise<'pendiente' | 'fallido' | null> {
  const res = await db.query<{ estado: 'pendiente' | 'fallido' }>(
    `WITH job AS (
       UPDATE router_media_jobs
          SET estado = CASE WHEN $3 THEN 'pendiente' ELSE 'fallido' END,
              disponible_at = now() + $4 * interval '1 millisecond', hasta = NULL, error = left($5, 1000),
              done_at = CASE WHEN $3 THEN NULL ELSE now() END
        WHERE id = $1::bigint AND owner = $2 AND estado = 'descargando'
        RETURNING mensaje_id, estado
     ),
     msg AS (
       -- No file will ever be there: the chat falls back to the text placeholder ([Imagen]…).
       UPDATE mensajes SET media_error = left($5, 1000), media_url = NULL
        WHERE id = (SELECT mensaje_id FROM job WHERE estado = 'fallido')
        RETURNING 1
     )
     SELECT estado FROM job`,
    [args.id, args.owner, args.retry, args.backoffMs, args.error],
  );
  return res.rows[0]?.estado ?? null;
}

export interface MediaLinkState {
  /** No such message, or it has no media. */
  found: boolean;
  estado: 'pendiente' | 'descargando' | 'hecho' | 'fallido' | 'omitido' | null;
  storage: 'local' | 'supabase' | null;
  key: string | null;
  url: string | null;
  mimeType: string | null;
}

/** What the router's /media/<message id>/<name> link can serve right now. */
export async function mediaLinkState(db: Queryable, messageId: string): Promise<MediaLinkState> {
  const res = await db.query<{
    estado: MediaLinkState['estado'];
    storage: MediaLinkState['storage'];
    storage_key: string | null;
    url: string | null;
    mime_type: string | null;
  }>(
    `SELECT j.estado, j.storage, j.storage_key, j.url, j.mime_type FROM router_media_jobs j WHERE j.mensaje_id = $1::uuid`,
    [messageId],
  );
  const row = res.rows[0];
  if (!row) return { found: false, estado: null, storage: null, key: null, url: null, mimeType: null };
  return {
    found: true,
    estado: row.estado,
    storage: row.storage,
    key: row.storage_key,
    url: row.url,
    mimeType: row.mime_type,
  };
}

/** Shutdown: jobs this downloader still holds go back to the queue at once instead of waiting out the claim. */
export async function releaseMediaClaims(db: Queryable, owner: string): Promise<number> {
  const res = await db.query(
    `UPDATE router_media_jobs SET estado = 'pendiente', hasta = NULL, disponible_at = now()
      WHERE owner = $1 AND estado = 'descargando'`,
    [owner],
  );
  return res.rowCount;
}
