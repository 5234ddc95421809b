-- The ads funnel, autoreplies and the statistics they feed (CRM-CONTRACT §8–§9, FLOWS.md).
--
-- These are the CRM's tables: on its live database every CREATE below is skipped and only the
-- ADD COLUMN IF NOT EXISTS lines add what a table lacks. Nothing is dropped, renamed or retyped, and
-- no constraint is added to a CRM table. On an empty database they get the shape the CRM's code
-- uses (centralwap-automations/src/types/index.ts), which DATABASE_SCHEMA.md §3 documents only in part.

-- A line's flow: the main menu, the ads funnel, or an inbox. Only this router-owned CHECK changes.
ALTER TABLE router_lineas DROP CONSTRAINT IF EXISTS router_lineas_flujo_check;
ALTER TABLE router_lineas ADD CONSTRAINT router_lineas_flujo_check CHECK (flujo IN ('menu', 'ads', 'inbox'));

-- Courses, with what the funnel sends: greeting, welcome, list body and the info_* answers.
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS descripcion text;
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS categoria text;
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS tipo_formacion text DEFAULT 'curso';
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS disponible_entrada_directa boolean DEFAULT true;
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS inscripciones_abiertas boolean DEFAULT true;
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS psi_nombre text;
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS mensaje_saludo text;
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS mensaje_bienvenida text;
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS mensaje_menu_body text;
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS info_precio text;
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS info_fechas text;
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS info_duracion text;
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS info_certificacion text;
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS info_salida_laboral text;
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS info_modalidad text;
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS info_contenido text;
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS info_requisitos text;
ALTER TABLE cursos ADD COLUMN IF NOT EXISTS updated_at timestamptz DEFAULT now();

-- The ad → course map (AM:295-299).
CREATE TABLE IF NOT EXISTS config_cursos_ctwa (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  ad_id        text,
  curso_id     uuid REFERENCES cursos (id),
  nombre       text,
  activo       boolean DEFAULT true,
  ejecuciones  integer DEFAULT 0,
  created_at   timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS config_cursos_ctwa_ad_id ON config_cursos_ctwa (ad_id);

-- Legacy ad counters: the Estadísticas page's "Top anuncios" still reads them (ES:292-302).
CREATE TABLE IF NOT EXISTS config_ctwa_anuncios (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  ad_id             text,
  nombre            text,
  activo            boolean DEFAULT true,
  ejecuciones       integer DEFAULT 0,
  ultima_ejecucion  timestamptz,
  created_at        timestamptz DEFAULT now(),
  updated_at        timestamptz DEFAULT now()
);

-- A course's funnel options (AM:310-381).
CREATE TABLE IF NOT EXISTS menu_opciones (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  curso_id              uuid REFERENCES cursos (id) ON DELETE CASCADE,
  orden                 integer NOT NULL DEFAULT 0,
  emoji                 text,
  titulo                text NOT NULL,
  subtitulo             text,
  tipo                  text NOT NULL,
  campo_info            text,
  respuesta_custom      text,
  mostrar_menu_despues  boolean DEFAULT true,
  mensaje_derivacion    text,
  prioridad_derivacion  text DEFAULT 'normal',
  activo                boolean DEFAULT true,
  created_at            timestamptz DEFAULT now(),
  updated_at            timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS menu_opciones_curso ON menu_opciones (curso_id, orden);

-- Cohort names, for matching web leads (AM:164-284).
CREATE TABLE IF NOT EXISTS cursos_cohortes (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  educativa_codigo  text,
  curso_codigo      text,
  nombre            text,
  alumnos           integer DEFAULT 0,
  cohorte_anio      integer,
  cohorte_mes       integer,
  created_at        timestamptz DEFAULT now()
);

-- One session per (lead, course) (commit 162c43c's UNIQUE, kept for an empty database only).
CREATE TABLE IF NOT EXISTS menu_sesiones (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  telefono         text NOT NULL,
  curso_id         uuid REFERENCES cursos (id),
  config_ctwa_id   uuid,
  ad_id            text,
  ctwa_clid        text,
  conversacion_id  uuid,
  origen           text,
  estado           text DEFAULT 'activo',
  interacciones    integer DEFAULT 0,
  created_at       timestamptz DEFAULT now(),
  updated_at       timestamptz DEFAULT now(),
  UNIQUE (telefono, curso_id)
);
ALTER TABLE menu_sesiones ADD COLUMN IF NOT EXISTS mensaje_inicial text;
ALTER TABLE menu_sesiones ADD COLUMN IF NOT EXISTS ultima_actividad timestamptz DEFAULT now();
-- Router-owned: the whole referral (source URL, headline, ts) for a Conversions API report.
ALTER TABLE menu_sesiones ADD COLUMN IF NOT EXISTS referral jsonb;
CREATE INDEX IF NOT EXISTS menu_sesiones_telefono ON menu_sesiones (telefono);

-- One row per executed tap (AM:347-351).
CREATE TABLE IF NOT EXISTS menu_interacciones (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  telefono           text NOT NULL,
  conversacion_id    uuid,
  curso_id           uuid,
  opcion_id          uuid,
  curso_codigo       text,
  curso_nombre       text,
  opcion_titulo      text,
  tipo_opcion        text,
  ad_id              text,
  ctwa_clid          text,
  respuesta_enviada  boolean DEFAULT false,
  derivado           boolean DEFAULT false,
  created_at         timestamptz DEFAULT now()
);
ALTER TABLE menu_interacciones ADD COLUMN IF NOT EXISTS config_ctwa_id uuid;
CREATE INDEX IF NOT EXISTS menu_interacciones_telefono ON menu_interacciones (telefono);

-- Autoreplies, one row per line (AJ:26-29).
CREATE TABLE IF NOT EXISTS config_autorespuestas (
  id                                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  linea                              text NOT NULL,
  activo                             boolean DEFAULT true,
  cooldown_horas                     integer DEFAULT 2,
  no_enviar_si_agente_respondio_min  integer DEFAULT 30,
  mensaje_franja_1                   text,
  mensaje_franja_2                   text,
  mensaje_franja_3                   text,
  mensaje_franja_4                   text,
  corte_activo                       boolean DEFAULT false,
  corte_timestamp                    timestamptz,
  corte_usuario_id                   text,
  corte_usuario_nombre               text,
  updated_at                         timestamptz DEFAULT now()
);

CREATE TABLE IF NOT EXISTS autorespuestas_enviadas (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  telefono     text,
  linea        text,
  franja       integer,
  mensaje      text,
  enviado_at   timestamptz DEFAULT now()
);
-- Router-owned: which conversation and outbound row the log row belongs to.
ALTER TABLE autorespuestas_enviadas ADD COLUMN IF NOT EXISTS conversacion_id uuid;
ALTER TABLE autorespuestas_enviadas ADD COLUMN IF NOT EXISTS mensaje_id uuid;
CREATE INDEX IF NOT EXISTS autorespuestas_enviadas_cooldown ON autorespuestas_enviadas (linea, telefono, enviado_at DESC);

CREATE TABLE IF NOT EXISTS autorespuestas_cortes_log (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  linea           text,
  accion          text,
  usuario_id      text,
  usuario_nombre  text,
  automatico      boolean DEFAULT false,
  created_at      timestamptz DEFAULT now()
);

-- psi:outside-transaction
-- The autoreply's agent guard reads the conversation's newest agent message (built concurrently:
-- mensajes is the CRM's largest live table; migration-parts.ts).
CREATE INDEX CONCURRENTLY IF NOT EXISTS mensajes_agente_reciente
  ON mensajes (conversacion_id, "timestamp" DESC) WHERE remitente_tipo = 'agente';
