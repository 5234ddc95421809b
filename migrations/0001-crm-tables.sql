-- Tables the CRM reads (Supabase Realtime listens on contactos, conversaciones, mensajes).
-- Column names are the CRM's (Spanish) and must not change; everything is IF NOT EXISTS so the
-- migration is safe on a database where the CRM already created some of them.

CREATE TABLE IF NOT EXISTS contactos (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  telefono      text UNIQUE,                      -- E.164 with '+'; null for username-only users
  wa_user_id    text,                             -- 2026 business-scoped user id
  username      text,
  nombre        text,
  origen        text,
  utm_source    text,
  utm_campaign  text,
  metadata      jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT contactos_identidad CHECK (telefono IS NOT NULL OR wa_user_id IS NOT NULL)
);
-- A phoneless contact is keyed on its user id; once a phone is known the phone is the key.
CREATE UNIQUE INDEX IF NOT EXISTS contactos_wa_user_id_sin_telefono
  ON contactos (wa_user_id) WHERE telefono IS NULL;
CREATE INDEX IF NOT EXISTS contactos_wa_user_id ON contactos (wa_user_id) WHERE wa_user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS contactos_telefono ON contactos (telefono);

CREATE TABLE IF NOT EXISTS conversaciones (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  contacto_id           uuid NOT NULL REFERENCES contactos (id) ON DELETE CASCADE,
  telefono              text,
  linea_origen          text NOT NULL,            -- phone_number_id of the business line
  area                  text,
  estado                text NOT NULL DEFAULT 'activa'
                          CHECK (estado IN ('activa', 'derivada', 'cerrada')),
  router_estado         text CHECK (router_estado IS NULL OR router_estado = 'menu_principal'
                          OR router_estado = 'derivado' OR router_estado LIKE 'submenu\_%'),
  menu_actual           text,
  ultimo_mensaje        text,
  ts_ultimo_mensaje     timestamptz,
  sin_leer              integer NOT NULL DEFAULT 0,
  ventana_24h_fin       timestamptz,
  ventana_72h_fin       timestamptz,
  ts_ultima_derivacion  timestamptz,
  numero_derivaciones   integer NOT NULL DEFAULT 0,
  ticket_id             text,
  metadata              jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT conversaciones_contacto_linea UNIQUE (contacto_id, linea_origen)
);
CREATE INDEX IF NOT EXISTS conversaciones_telefono ON conversaciones (telefono);
CREATE INDEX IF NOT EXISTS conversaciones_contacto_id ON conversaciones (contacto_id);
CREATE INDEX IF NOT EXISTS conversaciones_ts_ultimo_mensaje ON conversaciones (ts_ultimo_mensaje DESC);

CREATE TABLE IF NOT EXISTS mensajes (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  conversacion_id      uuid NOT NULL REFERENCES conversaciones (id) ON DELETE CASCADE,
  mensaje              text,
  tipo                 text NOT NULL,
  direccion            text NOT NULL CHECK (direccion IN ('entrante', 'saliente')),
  remitente_tipo       text NOT NULL CHECK (remitente_tipo IN ('contacto', 'bot', 'sistema', 'agente')),
  remitente_nombre     text,
  whatsapp_message_id  text UNIQUE,
  whatsapp_context_id  text,
  media_id             text,
  media_type           text,
  media_url            text,
  media_filename       text,
  estado_envio         text CHECK (estado_envio IS NULL
                         OR estado_envio IN ('pendiente', 'enviado', 'entregado', 'leido', 'fallido')),
  error_codigo         integer,
  error_texto          text,
  metadata             jsonb NOT NULL DEFAULT '{}'::jsonb,
  "timestamp"          timestamptz NOT NULL DEFAULT now(),
  created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS mensajes_conversacion_timestamp ON mensajes (conversacion_id, "timestamp" DESC);
CREATE INDEX IF NOT EXISTS mensajes_timestamp ON mensajes ("timestamp" DESC);
CREATE INDEX IF NOT EXISTS mensajes_remitente_tipo ON mensajes (remitente_tipo);

CREATE TABLE IF NOT EXISTS tickets (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  ticket_id        text NOT NULL UNIQUE,         -- TKT-YYYYMMDD-XXXXX
  conversacion_id  uuid REFERENCES conversaciones (id) ON DELETE SET NULL,
  contacto_id      uuid REFERENCES contactos (id) ON DELETE SET NULL,
  area             text,
  estado           text NOT NULL DEFAULT 'abierto',
  metadata         jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS tickets_conversacion ON tickets (conversacion_id);

CREATE TABLE IF NOT EXISTS derivaciones (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  conversacion_id  uuid REFERENCES conversaciones (id) ON DELETE CASCADE,
  contacto_id      uuid REFERENCES contactos (id) ON DELETE SET NULL,
  area_origen      text,
  area_destino     text NOT NULL,
  motivo           text,
  subetiqueta      text,
  ticket_id        text REFERENCES tickets (ticket_id) ON DELETE SET NULL,
  ts_derivacion    timestamptz NOT NULL DEFAULT now(),
  metadata         jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS derivaciones_conversacion ON derivaciones (conversacion_id, ts_derivacion DESC);

-- Menus are edited by the CRM; the router reads them.
CREATE TABLE IF NOT EXISTS router_menu_config (
  id              text PRIMARY KEY,
  nombre          text NOT NULL,
  header          text,
  body            text NOT NULL,
  footer          text,
  button_text     text,
  tipo_menu       text NOT NULL DEFAULT 'list' CHECK (tipo_menu IN ('list', 'buttons', 'text')),
  activo          boolean NOT NULL DEFAULT true,
  parent_menu_id  text REFERENCES router_menu_config (id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS router_menu_opciones (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  menu_config_id    text NOT NULL REFERENCES router_menu_config (id) ON DELETE CASCADE,
  orden             integer NOT NULL DEFAULT 0,
  opcion_id         text NOT NULL,
  emoji             text,
  titulo            text NOT NULL,
  descripcion       text,
  tipo_accion       text NOT NULL CHECK (tipo_accion IN ('derivar', 'submenu', 'volver', 'cursos_dinamico')),
  submenu_id        text REFERENCES router_menu_config (id) ON DELETE SET NULL,
  area_destino      text,
  subetiqueta       text,
  mensaje_contexto  text,
  activo            boolean NOT NULL DEFAULT true,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT router_menu_opciones_unica UNIQUE (menu_config_id, opcion_id)
);
CREATE INDEX IF NOT EXISTS router_menu_opciones_menu ON router_menu_opciones (menu_config_id, orden);

CREATE TABLE IF NOT EXISTS cursos (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  codigo      text NOT NULL UNIQUE,
  nombre      text NOT NULL,
  activo      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now()
);
