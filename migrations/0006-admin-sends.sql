-- Outbound messages sent by the CRM through POST /admin/messages may carry an idempotency key, so
-- a retried request from the CRM never sends twice.
CREATE UNIQUE INDEX IF NOT EXISTS mensajes_idempotency_key
  ON mensajes ((metadata->>'idempotency_key')) WHERE metadata ? 'idempotency_key';
