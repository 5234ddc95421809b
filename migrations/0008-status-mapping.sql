-- Meta's status word → mensajes.estado_envio, in one place for every statement that applies
-- statuses (the journal insert and the orphan path). NULL for a status the router does not track.
CREATE OR REPLACE FUNCTION router_estado_de_status(status text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE status
    WHEN 'sent' THEN 'enviado' WHEN 'delivered' THEN 'entregado' WHEN 'read' THEN 'leido'
    WHEN 'played' THEN 'leido' WHEN 'failed' THEN 'fallido' END
$$;
