-- Inbound media kept for the CRM. Meta hands the router only a media id whose download URL lives
-- minutes, so every inbound image/audio/video/document/sticker gets a job here, created by the same
-- statement that completes its journal event (no extra round trip), and drained by the media
-- downloader (src/media/media-downloader.ts) off the ack and routing path.

CREATE TABLE IF NOT EXISTS router_media_jobs (
  id             bigserial PRIMARY KEY,
  mensaje_id     uuid NOT NULL UNIQUE REFERENCES mensajes (id) ON DELETE CASCADE,
  media_id       text NOT NULL,
  tipo           text,                       -- image | audio | video | document | sticker
  mime_type      text,                       -- as in the webhook
  sha256         text,                       -- as in the webhook (base64)
  filename       text,                       -- documents only
  estado         text NOT NULL DEFAULT 'pendiente'
                   CHECK (estado IN ('pendiente', 'descargando', 'hecho', 'fallido', 'omitido')),
  intentos       integer NOT NULL DEFAULT 0,
  disponible_at  timestamptz NOT NULL DEFAULT now(),  -- retry backoff: not before this instant
  owner          text,                       -- downloader holding the claim
  hasta          timestamptz,                -- end of that claim; an expired claim is taken over
  storage        text,                       -- local | supabase, once stored
  storage_key    text,                       -- object key in that backend (to re-sign a URL later)
  url            text,                       -- where the stored file is opened (Storage URL or signed /media path)
  error          text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  done_at        timestamptz
);
-- The downloader's "what is due": waiting rows past their backoff and claims that expired.
CREATE INDEX IF NOT EXISTS router_media_jobs_due
  ON router_media_jobs (disponible_at, id) WHERE estado IN ('pendiente', 'descargando');

-- mensajes.media_url is the router's own link (/media/<message id>/<file name>), written with the
-- message so the chat renders the file at once; that link serves the file from here once stored.
-- Kept beside it: the stored size and checksum, and why a file could not be kept (the message
-- itself is always kept).
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS media_size bigint;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS media_sha256 text;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS media_error text;
