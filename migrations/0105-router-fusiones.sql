-- One WhatsApp number, one key. The CRM stores a person's phone in several spellings ('+549…' from
-- the router, '+54' + 10 digits from "Nuevo chat", with or without '+', CRM-CONTRACT §2, §5), and
-- WhatsApp's wa_id for an Argentine mobile carries the 9. The key: digits only; an Argentine number
-- written without the mobile 9 (54 + 10 digits) gets it after the 54. Nothing else is guessed.
-- src/store/crm-check/phone-key.ts holds the same rule as an inline expression for databases where
-- this migration has not run yet; a test checks that both agree.
CREATE OR REPLACE FUNCTION router_telefono_clave(telefono text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN d ~ '^54[0-9]{10}$' THEN '549' || substr(d, 3) ELSE d END
    FROM (SELECT regexp_replace(telefono, '[^0-9]', '', 'g') AS d) s
$$;

-- Every merge `npm run migrate -- --fix` makes (duplicate contacts, conversations, wamids), with the
-- merged row as it was and the ids it re-pointed, so that a merge can be undone by hand (README,
-- "Merging the CRM's duplicates").
CREATE TABLE IF NOT EXISTS router_fusiones (
  id               bigserial PRIMARY KEY,
  tipo             text NOT NULL CHECK (tipo IN ('contacto', 'conversacion', 'wamid')),
  superviviente_id uuid NOT NULL,
  fusionado_id     uuid NOT NULL,
  fila             jsonb NOT NULL,
  repunteos        jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS router_fusiones_fusionado ON router_fusiones (fusionado_id);
