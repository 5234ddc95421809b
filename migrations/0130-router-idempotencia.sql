-- Admin API idempotency keys move from an expression index on mensajes.metadata to a router table.
-- That index made metadata "indexed": every delivery status (which writes metadata.estados) was a
-- non-HOT update of all of mensajes' indexes. The key and request hash stay in metadata for the CRM.
CREATE TABLE IF NOT EXISTS router_idempotencia (
  clave        text PRIMARY KEY,
  mensaje_id   uuid NOT NULL,
  request_hash text,
  created_at   timestamptz NOT NULL DEFAULT now()
);

INSERT INTO router_idempotencia (clave, mensaje_id, request_hash, created_at)
SELECT m.metadata->>'idempotency_key', m.id, m.metadata->>'request_hash', coalesce(m.created_at, now())
  FROM mensajes m
 WHERE m.metadata ? 'idempotency_key' AND m.metadata->>'idempotency_key' IS NOT NULL
ON CONFLICT (clave) DO NOTHING;

-- Room on each page for a status's update beside its row, so it is a HOT update that touches no
-- index (takes SHARE UPDATE EXCLUSIVE: reads and writes go on; only new pages are filled to 90 %).
ALTER TABLE mensajes SET (fillfactor = 90);

-- The same for the journal's attempt count (the context query's bump before each attempt): a router
-- table, so its own storage setting.
ALTER TABLE router_eventos SET (fillfactor = 90);

-- psi:outside-transaction
-- Dropped without an ACCESS EXCLUSIVE lock on mensajes queued behind the CRM's reads (migration-parts.ts).
DROP INDEX CONCURRENTLY IF EXISTS mensajes_idempotency_key;
