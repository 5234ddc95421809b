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

-- Delivery states only move forward: pendiente < enviado < entregado < leido. `fallido` ranks with
-- `leido` so a late failure can still overwrite sent/delivered, but nothing overwrites a terminal state.
CREATE OR REPLACE FUNCTION router_rango_estado(estado text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE estado
    WHEN 'pendiente' THEN 0 WHEN 'enviado' THEN 1 WHEN 'entregado' THEN 2
    WHEN 'leido' THEN 3 WHEN 'fallido' THEN 3 ELSE -1 END
$$;
