-- Router-owned routing data: lines (business numbers and their mode), areas (human inboxes),
-- customer-facing texts, the transactional outbox, and human-readable ticket ids.

CREATE TABLE IF NOT EXISTS router_lineas (
  phone_number_id  text PRIMARY KEY,
  nombre           text NOT NULL,
  modo             text NOT NULL DEFAULT 'menu' CHECK (modo IN ('menu', 'inbox')),
  activo           boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS router_areas (
  id                 text PRIMARY KEY,
  nombre             text NOT NULL,
  inbox_webhook_url  text,                 -- n8n webhook receiving derivations and messages
  activo             boolean NOT NULL DEFAULT true,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS router_textos (
  clave       text PRIMARY KEY,
  texto       text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Ticket ids: TKT-YYYYMMDD-XXXXX, XXXXX = the sequence in base 36. A sequence never hands out a
-- value twice, so ids never collide (36^5 ≈ 60 million tickets before a sixth character appears).
CREATE SEQUENCE IF NOT EXISTS router_ticket_seq;

CREATE OR REPLACE FUNCTION router_base36(n bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  digits constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  out text := '';
BEGIN
  IF n = 0 THEN RETURN '0'; END IF;
  WHILE n > 0 LOOP
    out := substr(digits, (n % 36)::int + 1, 1) || out;
    n := n / 36;
  END LOOP;
  RETURN out;
END $$;

CREATE OR REPLACE FUNCTION router_nuevo_ticket(tz text) RETURNS text
LANGUAGE sql VOLATILE AS $$
  SELECT 'TKT-' || to_char(now() AT TIME ZONE tz, 'YYYYMMDD') || '-'
         || lpad(router_base36(nextval('router_ticket_seq')), 5, '0')
$$;

-- Transactional outbox: written in the same statement as the state change that decided to send,
-- drained by the senders. `orden_key` is the per-recipient queue: only its oldest unfinished row is
-- ever in flight, so replies reach a customer (or an inbox) in the order they were decided.
CREATE TABLE IF NOT EXISTS router_outbox (
  id               bigserial PRIMARY KEY,
  canal            text NOT NULL CHECK (canal IN ('whatsapp', 'inbox')),
  mensaje_id       uuid REFERENCES mensajes (id) ON DELETE SET NULL,
  conversacion_id  uuid REFERENCES conversaciones (id) ON DELETE CASCADE,
  linea            text,                  -- phone_number_id to send from (whatsapp)
  destinatario     text NOT NULL,         -- customer wa_id (whatsapp) or webhook URL (inbox)
  orden_key        text NOT NULL,
  payload          jsonb NOT NULL,        -- Graph API body, or the inbox notification
  estado           text NOT NULL DEFAULT 'pendiente'
                     CHECK (estado IN ('pendiente', 'enviando', 'enviado', 'fallido', 'omitido')),
  intentos         integer NOT NULL DEFAULT 0,
  disponible_at    timestamptz NOT NULL DEFAULT now(),
  owner            text,
  hasta            timestamptz,
  wamid            text,
  error_codigo     integer,
  error            text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  enviado_at       timestamptz
);
CREATE INDEX IF NOT EXISTS router_outbox_activos
  ON router_outbox (orden_key, id) WHERE estado IN ('pendiente', 'enviando');
CREATE INDEX IF NOT EXISTS router_outbox_estado ON router_outbox (estado, created_at);
