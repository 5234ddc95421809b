-- Router-owned: the durable inbound journal and per-conversation leases.
--
-- Every webhook event is written here (one statement per batch) before Meta gets its 200, so an
-- acknowledged event survives any crash. `clave` is the idempotency key (m:<wamid>, s:<wamid>:<status>,
-- …): Meta's redeliveries and duplicates inside a batch collapse on it. Rows are processed per
-- conversation (`conv_key`) in WhatsApp timestamp order, then arrival order (`id`).

CREATE TABLE IF NOT EXISTS router_eventos (
  id            bigserial PRIMARY KEY,
  clave         text NOT NULL UNIQUE,
  tipo          text NOT NULL CHECK (tipo IN ('message', 'status', 'error', 'other')),
  conv_key      text,                       -- <phone_number_id>:<customer key> for messages
  wamid         text,
  linea         text,
  wa_ts         timestamptz NOT NULL,
  payload       jsonb NOT NULL,             -- the normalised InboundEvent
  estado        text NOT NULL DEFAULT 'pendiente'
                  CHECK (estado IN ('pendiente', 'hecho', 'huerfano', 'muerto')),
  intentos      integer NOT NULL DEFAULT 0,
  disponible_at timestamptz NOT NULL DEFAULT now(),  -- retry backoff: not before this instant
  error         text,
  request_id    text,
  recibido_at   timestamptz NOT NULL DEFAULT now(),
  procesado_at  timestamptz
);
-- The processor's "next event of this conversation" and the sweeper's "what is still pending".
CREATE INDEX IF NOT EXISTS router_eventos_pendientes
  ON router_eventos (conv_key, wa_ts, id) WHERE estado = 'pendiente';
-- Statuses that arrived before their outbound message was recorded wait here by wamid.
CREATE INDEX IF NOT EXISTS router_eventos_huerfanos ON router_eventos (wamid) WHERE estado = 'huerfano';
CREATE INDEX IF NOT EXISTS router_eventos_recibido ON router_eventos (recibido_at);

-- One row per conversation being processed: whoever holds an unexpired lease is the only one
-- allowed to process that conversation (across async tasks, PM2 processes and workers).
CREATE TABLE IF NOT EXISTS router_locks (
  conv_key    text PRIMARY KEY,
  owner       text NOT NULL,
  hasta       timestamptz NOT NULL,
  tomado_at   timestamptz NOT NULL DEFAULT now()
);

-- Who processed each journal event and when it started: an audit trail that also proves the
-- per-conversation exclusion (for one conv_key, [iniciado_at, procesado_at] intervals never overlap).
ALTER TABLE router_eventos ADD COLUMN IF NOT EXISTS iniciado_at timestamptz;
ALTER TABLE router_eventos ADD COLUMN IF NOT EXISTS procesado_por text;
CREATE INDEX IF NOT EXISTS router_eventos_muertos ON router_eventos (procesado_at DESC) WHERE estado = 'muerto';

-- Queue mode order: the webhook gives each message a per-conversation sequence number in Redis at
-- ack time (stable for redeliveries). Workers journal jobs in parallel, so a later message can reach
-- the journal first; the processor waits (bounded) for the gap below it to fill before processing.
ALTER TABLE router_eventos ADD COLUMN IF NOT EXISTS seq bigint;
CREATE TABLE IF NOT EXISTS router_conv_seq (
  conv_key    text PRIMARY KEY,
  ultimo_seq  bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- mensajes.estado_envio holds Meta's own status words, as the CRM's ticks read them (CH:880-884):
-- sent ✓, delivered ✓✓, read blue ✓✓, anything else ○. States only move forward; `failed` ranks
-- with `read` so a late failure can still overwrite sent/delivered, but nothing overwrites a
-- terminal state. NULL (not sent yet) ranks lowest.
CREATE OR REPLACE FUNCTION router_rango_estado(estado text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE estado
    WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'failed' THEN 3 ELSE 0 END
$$;

-- Meta's status word → estado_envio (`played`, a voice note listened to, shows as read). NULL for a
-- status the router does not track.
CREATE OR REPLACE FUNCTION router_estado_de_status(status text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE status
    WHEN 'sent' THEN 'sent' WHEN 'delivered' THEN 'delivered' WHEN 'read' THEN 'read'
    WHEN 'played' THEN 'read' WHEN 'failed' THEN 'failed' END
$$;
