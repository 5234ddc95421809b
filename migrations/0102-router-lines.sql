-- Router-owned routing data: lines (business numbers), areas (human inboxes), customer-facing
-- texts, ticket ids and the transactional outbox.

-- A line is a business number under its CRM code (wsp4, ventas_api, …): the code is what
-- conversaciones.linea_origen holds. `tipo` says how it talks to WhatsApp (cloud = Meta's Cloud API;
-- evolution later), `flujo` what the router does with it, `ajustes` the per-line behaviour switches
-- (src/routing/line-settings.ts). Configured through PUT /admin/lines/:codigo.
CREATE TABLE IF NOT EXISTS router_lineas (
  codigo           text PRIMARY KEY,
  nombre           text NOT NULL,
  tipo             text NOT NULL DEFAULT 'cloud' CHECK (tipo IN ('cloud', 'evolution')),
  phone_number_id  text UNIQUE,
  flujo            text NOT NULL DEFAULT 'menu' CHECK (flujo IN ('menu', 'inbox')),
  ajustes          jsonb NOT NULL DEFAULT '{}'::jsonb,
  activo           boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Areas by the CRM's inbox codes (admin, alumnos, ventas, comunidad, ventas_api); `inbox_webhook_url`
-- is the n8n webhook that hears about derivations and the messages of derived conversations.
CREATE TABLE IF NOT EXISTS router_areas (
  id                 text PRIMARY KEY,
  nombre             text NOT NULL,
  inbox_webhook_url  text,
  activo             boolean NOT NULL DEFAULT true,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS router_textos (
  clave       text PRIMARY KEY,
  texto       text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Ticket ids: TKT-YYYYMMDD-XXXXX, XXXXX = a sequence in base 36. A sequence never hands out a value
-- twice, so ids never collide (the old router's random suffix could, and then lost the ticket).
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
