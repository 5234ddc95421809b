-- Evolution API lines (issue 15): the business's other WhatsApp numbers, served by a self-hosted
-- Evolution API (Baileys) instance each. Configured with PUT /admin/lines/:codigo like Cloud lines.
--
-- `instancia` is the Evolution instance name (the `instance` of its webhooks, the {instance} of its
-- REST paths). `webhook_secreto` is what the instance's webhook must present (custom header, or the
-- HS256 key of its jwt_key mode: so it is kept as given, not hashed); `evolution_apikey` overrides
-- EVOLUTION_API_KEY for this line's sends; `envio_por_segundo` spaces this line's sends (WhatsApp
-- Web numbers are banned for bursts). GET /admin/lines never selects the two secrets.
-- An Evolution line's phone_number_id is the router's own sender id `evo:<codigo>` (set by the
-- admin API): the journal, leases and outbox key everything by it, and it can never equal a Cloud
-- API phone_number_id (digits only).
ALTER TABLE router_lineas ADD COLUMN IF NOT EXISTS instancia text;
ALTER TABLE router_lineas ADD COLUMN IF NOT EXISTS webhook_secreto text;
ALTER TABLE router_lineas ADD COLUMN IF NOT EXISTS evolution_apikey text;
ALTER TABLE router_lineas ADD COLUMN IF NOT EXISTS envio_por_segundo double precision;
-- Last connection.update the instance reported (open, connecting, close), for /ready and /metrics.
ALTER TABLE router_lineas ADD COLUMN IF NOT EXISTS conexion_estado text;
ALTER TABLE router_lineas ADD COLUMN IF NOT EXISTS conexion_at timestamptz;
CREATE UNIQUE INDEX IF NOT EXISTS router_lineas_instancia ON router_lineas (instancia) WHERE instancia IS NOT NULL;

-- Media an Evolution webhook carried (base64, its `webhook_base64` option) or linked (mediaUrl),
-- written before the webhook's 200 and read by the media downloader for the message's job.
-- `wamid` is the message's namespaced id (evo:<instance>:<key.id>), the media id of its job.
CREATE TABLE IF NOT EXISTS router_evolution_media (
  wamid       text PRIMARY KEY,
  url         text,
  base64      text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
