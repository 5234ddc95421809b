-- Who processed each journal event and when it started: an audit trail that also proves the
-- per-conversation exclusion (for one conv_key, [iniciado_at, procesado_at] intervals never overlap).
ALTER TABLE router_eventos ADD COLUMN IF NOT EXISTS iniciado_at timestamptz;
ALTER TABLE router_eventos ADD COLUMN IF NOT EXISTS procesado_por text;
CREATE INDEX IF NOT EXISTS router_eventos_muertos ON router_eventos (procesado_at DESC) WHERE estado = 'muerto';
