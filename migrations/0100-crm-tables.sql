-- The CRM's tables, as the CRM's screens read them (../shared/CRM-CONTRACT.md §2–§7).
--
-- On the CRM's live Supabase database these tables already exist: every CREATE below is skipped and
-- only the ADD COLUMN IF NOT EXISTS lines add what the router needs and the table lacks. On an empty
-- database (npm start on the embedded default) they create the CRM's shape from zero. Rules kept by
-- every statement here: nothing is dropped, renamed or retyped; no CHECK constraint or trigger that
-- could reject a write the CRM makes; no unique index the CRM's own data could violate.

CREATE TABLE IF NOT EXISTS contactos (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  telefono      text NOT NULL UNIQUE,
  nombre        text,
  created_at    timestamptz DEFAULT now(),
  updated_at    timestamptz DEFAULT now()
);
ALTER TABLE contactos ADD COLUMN IF NOT EXISTS email text;
ALTER TABLE contactos ADD COLUMN IF NOT EXISTS origen text DEFAULT 'whatsapp';
ALTER TABLE contactos ADD COLUMN IF NOT EXISTS tipo text DEFAULT 'lead';
ALTER TABLE contactos ADD COLUMN IF NOT EXISTS activo boolean DEFAULT true;
ALTER TABLE contactos ADD COLUMN IF NOT EXISTS utm_source text;
ALTER TABLE contactos ADD COLUMN IF NOT EXISTS utm_campaign text;
ALTER TABLE contactos ADD COLUMN IF NOT EXISTS metadata jsonb DEFAULT '{}'::jsonb;
-- 2026 WhatsApp usernames: a business-scoped user id, with or without a phone number.
ALTER TABLE contactos ADD COLUMN IF NOT EXISTS wa_user_id text;
ALTER TABLE contactos ADD COLUMN IF NOT EXISTS username text;

CREATE TABLE IF NOT EXISTS conversaciones (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  contacto_id    uuid REFERENCES contactos (id),
  telefono       text NOT NULL,
  linea_origen   text NOT NULL DEFAULT 'wsp4',
  area           text DEFAULT 'wsp4',
  estado         text NOT NULL DEFAULT 'activa',
  created_at     timestamptz DEFAULT now(),
  updated_at     timestamptz DEFAULT now()
);
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS nombre text;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS canal text DEFAULT 'whatsapp';
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS prioridad text DEFAULT 'media';
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS origen text;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS iniciado_por text;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS router_estado text;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS menu_actual text;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS ultimo_mensaje text;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS ts_ultimo_mensaje timestamptz;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS ultimo_mensaje_at timestamptz;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS mensajes_no_leidos integer DEFAULT 0;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS leida boolean DEFAULT false;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS ventana_24h_activa boolean DEFAULT false;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS ventana_24h_inicio timestamptz;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS ventana_24h_fin timestamptz;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS ventana_72h_activa boolean DEFAULT false;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS ventana_72h_inicio timestamptz;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS ventana_72h_fin timestamptz;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS es_lead_meta boolean DEFAULT false;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS fijada boolean DEFAULT false;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS desconectado_wsp4 boolean DEFAULT false;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS desconectado_ventas_api boolean DEFAULT false;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS inbox_fijo text;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS desconectado_motivo text;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS desconectado_por text;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS desconectado_ts timestamptz;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS asignado_a text;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS asignado_nombre text;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS asignado_ts timestamptz;
-- Router-owned additions (the CRM neither reads nor writes them).
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS ts_ultima_derivacion timestamptz;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS numero_derivaciones integer DEFAULT 0;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS ticket_id text;
ALTER TABLE conversaciones ADD COLUMN IF NOT EXISTS metadata jsonb DEFAULT '{}'::jsonb;

CREATE TABLE IF NOT EXISTS mensajes (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  conversacion_id      uuid REFERENCES conversaciones (id) ON DELETE CASCADE,
  mensaje              text,
  tipo                 text DEFAULT 'text',
  direccion            text NOT NULL,
  "timestamp"          timestamptz DEFAULT now(),
  created_at           timestamptz DEFAULT now()
);
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS remitente_tipo text;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS remitente_nombre text;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS remitente_id text;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS media_url text;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS media_type text;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS media_filename text;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS whatsapp_message_id text;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS whatsapp_context_id text;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS mensaje_citado_id uuid;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS estado_envio text;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS enviado boolean DEFAULT false;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS entregado boolean DEFAULT false;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS leido boolean DEFAULT false;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS fallido boolean DEFAULT false;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS error_mensaje text;
-- The chat filters eliminado = false: a NULL row is invisible, so the router always writes false.
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS eliminado boolean DEFAULT false;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS destacado boolean DEFAULT false;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS fijado boolean DEFAULT false;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS telefono text;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS metadata jsonb DEFAULT '{}'::jsonb;
-- Router-owned additions.
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS media_id text;
ALTER TABLE mensajes ADD COLUMN IF NOT EXISTS error_codigo integer;

-- usuario_id NULL = the contact's own reaction (one per message); agents' rows carry their auth uid.
CREATE TABLE IF NOT EXISTS mensaje_reacciones (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  mensaje_id  uuid REFERENCES mensajes (id) ON DELETE CASCADE,
  usuario_id  uuid,
  emoji       text NOT NULL,
  created_at  timestamptz DEFAULT now()
);

CREATE TABLE IF NOT EXISTS tickets (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  ticket_id        text NOT NULL UNIQUE,
  conversacion_id  uuid REFERENCES conversaciones (id),
  telefono         text,
  area             text,
  estado           text DEFAULT 'abierto',
  created_at       timestamptz DEFAULT now(),
  updated_at       timestamptz DEFAULT now()
);
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS prioridad text DEFAULT 'normal';
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS area_origen text;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS area_destino text;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS subetiqueta text;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS motivo text;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS metadata jsonb DEFAULT '{}'::jsonb;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS ts_primera_respuesta timestamptz;

CREATE TABLE IF NOT EXISTS derivaciones (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  conversacion_id  uuid REFERENCES conversaciones (id),
  -- What the old router writes: tickets.id. A live database whose column references
  -- tickets(ticket_id) instead gets the text id (src/store/schema-profile.ts decides).
  ticket_id        uuid REFERENCES tickets (id),
  area_origen      text,
  area_destino     text NOT NULL,
  motivo           text,
  status           text DEFAULT 'completada',
  ts_derivacion    timestamptz DEFAULT now(),
  created_at       timestamptz DEFAULT now()
);
ALTER TABLE derivaciones ADD COLUMN IF NOT EXISTS telefono text;
ALTER TABLE derivaciones ADD COLUMN IF NOT EXISTS subetiqueta text;
ALTER TABLE derivaciones ADD COLUMN IF NOT EXISTS menu_option_selected text;
ALTER TABLE derivaciones ADD COLUMN IF NOT EXISTS derivado_por text;
ALTER TABLE derivaciones ADD COLUMN IF NOT EXISTS sistema_version text;
ALTER TABLE derivaciones ADD COLUMN IF NOT EXISTS nodo_procesador text;

CREATE TABLE IF NOT EXISTS audit_log (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  accion          text NOT NULL,
  created_at      timestamptz DEFAULT now()
);
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS tabla_afectada text;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS registro_id text;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS valores_nuevos jsonb;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS motivo text;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS origen text;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS detalles text;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS user_name text;

-- Menus, edited by the CRM (AJ:357-420). tipo_menu names a menu ('principal', 'alumnos', …).
CREATE TABLE IF NOT EXISTS router_menu_config (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  nombre          text,
  header          text,
  body            text,
  footer          text,
  button_text     text,
  tipo_menu       text,
  activo          boolean DEFAULT true,
  parent_menu_id  uuid,
  created_at      timestamptz DEFAULT now(),
  updated_at      timestamptz DEFAULT now()
);
CREATE TABLE IF NOT EXISTS router_menu_opciones (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  menu_config_id    uuid REFERENCES router_menu_config (id) ON DELETE CASCADE,
  orden             integer DEFAULT 0,
  opcion_id         text,
  emoji             text,
  titulo            text,
  descripcion       text,
  tipo_accion       text,
  submenu_id        uuid,
  area_destino      text,
  subetiqueta       text,
  mensaje_contexto  text,
  activo            boolean DEFAULT true,
  created_at        timestamptz DEFAULT now(),
  updated_at        timestamptz DEFAULT now()
);
CREATE TABLE IF NOT EXISTS cursos (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  codigo      text,
  nombre      text,
  activo      boolean DEFAULT true,
  created_at  timestamptz DEFAULT now()
);

-- The chat reads this view (CH:640). Its SQL lives only in the live database, so it is created
-- here only when missing (an empty database); an existing one is never replaced.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_views WHERE schemaname = current_schema() AND viewname = 'vw_mensajes_completos') THEN
    EXECUTE $v$
      CREATE VIEW vw_mensajes_completos AS
      SELECT m.*,
             coalesce((SELECT json_agg(json_build_object('emoji', r.emoji, 'usuario_id', r.usuario_id, 'created_at', r.created_at)
                                  ORDER BY r.created_at)
                         FROM mensaje_reacciones r WHERE r.mensaje_id = m.id), '[]'::json) AS reacciones,
             q.mensaje AS mensaje_citado_contenido,
             q.remitente_nombre AS mensaje_citado_remitente
        FROM mensajes m LEFT JOIN mensajes q ON q.id = m.mensaje_citado_id
    $v$;
  END IF;
  -- The chat resets the unread badge through this RPC (CH:643); created only when missing.
  IF NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE p.proname = 'marcar_como_leidos' AND n.nspname = current_schema()) THEN
    EXECUTE $f$
      CREATE FUNCTION marcar_como_leidos(p_conversacion_id uuid) RETURNS void
      LANGUAGE sql AS 'UPDATE conversaciones SET mensajes_no_leidos = 0 WHERE id = p_conversacion_id'
    $f$;
  END IF;
END $$;

-- The CRM's tables are live and large: their indexes are built without holding their writes (and
-- after the ADD COLUMNs above, whose locks end with the transaction). Admin idempotency keys live in
-- router_idempotencia (0130), not in an index on mensajes.metadata.
-- psi:outside-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS contactos_wa_user_id ON contactos (wa_user_id) WHERE wa_user_id IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversaciones_telefono ON conversaciones (telefono);
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversaciones_contacto_id ON conversaciones (contacto_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversaciones_ts_ultimo_mensaje ON conversaciones (ts_ultimo_mensaje DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversaciones_area ON conversaciones (area);
CREATE INDEX CONCURRENTLY IF NOT EXISTS mensajes_conversacion_timestamp ON mensajes (conversacion_id, "timestamp" DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS mensajes_timestamp ON mensajes ("timestamp" DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS mensajes_remitente_tipo ON mensajes (remitente_tipo);
-- Not unique: production holds duplicate and '' wamids. The partial unique index the router's
-- idempotency needs (mensajes_wamid_unico) is created once the data allows it (src/store/data-gate.ts).
CREATE INDEX CONCURRENTLY IF NOT EXISTS mensajes_whatsapp_message_id ON mensajes (whatsapp_message_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS mensaje_reacciones_mensaje ON mensaje_reacciones (mensaje_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS tickets_conversacion ON tickets (conversacion_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS derivaciones_conversacion ON derivaciones (conversacion_id, ts_derivacion DESC);
