-- Pure SQL helpers that turn what WhatsApp sends into the values the CRM reads. They live in the
-- database because the statements that need them (src/store/context-query.ts) run there in one
-- round trip; each is IMMUTABLE and tested through those statements.

-- Phone strings that are one WhatsApp number. WhatsApp sends Argentine mobiles as 549 + 10 digits;
-- the CRM's "Nuevo chat" stores them as +54 + 10 digits without the 9 (CP:211-217), flat n8n bodies
-- without the '+'. All of them must find the same contact.
CREATE OR REPLACE FUNCTION router_telefono_variantes(digits text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN digits ~ '^549[0-9]{10}$' THEN
      ARRAY['+' || digits, digits, '+54' || substr(digits, 4), '54' || substr(digits, 4)]
    WHEN digits ~ '^54[0-9]{10}$' THEN
      ARRAY['+' || digits, digits, '+549' || substr(digits, 3), '549' || substr(digits, 3)]
    ELSE ARRAY['+' || digits, digits] END
$$;

-- RFC 3986 percent-encoding of one path segment (UTF-8), so a customer's file name survives as the
-- last segment of media_url: the CRM shows decodeURIComponent(url).split('/').pop() as the name.
CREATE OR REPLACE FUNCTION router_url_segmento(s text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  bytes bytea := convert_to(s, 'UTF8');
  out text := '';
  b int;
BEGIN
  FOR i IN 0 .. length(bytes) - 1 LOOP
    b := get_byte(bytes, i);
    IF (b BETWEEN 48 AND 57) OR (b BETWEEN 65 AND 90) OR (b BETWEEN 97 AND 122) OR b IN (45, 46, 95, 126) THEN
      out := out || chr(b);
    ELSE
      out := out || '%' || upper(lpad(to_hex(b), 2, '0'));
    END IF;
  END LOOP;
  RETURN out;
END $$;

-- What the chat can render (CH:940-979): image, video, audio, document. A sticker is shown as an image.
CREATE OR REPLACE FUNCTION router_media_type(tipo text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE tipo WHEN 'image' THEN 'image' WHEN 'sticker' THEN 'image' WHEN 'video' THEN 'video'
    WHEN 'audio' THEN 'audio' WHEN 'document' THEN 'document' END
$$;

-- The file name a media message is stored and shown under: the customer's own for documents,
-- else <type>.<extension from the MIME type> (the same table as src/media/media-keys.ts, so the
-- link's name and the stored file's agree).
CREATE OR REPLACE FUNCTION router_media_nombre(tipo text, mime text, filename text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN nullif(btrim(translate(coalesce(filename, ''), '/\', '__')), '') IS NOT NULL
      THEN left(btrim(translate(filename, '/\', '__')), 120)
    ELSE tipo || '.' || CASE lower(split_part(coalesce(mime, ''), ';', 1))
      WHEN 'image/jpeg' THEN 'jpg' WHEN 'image/png' THEN 'png' WHEN 'image/webp' THEN 'webp'
      WHEN 'image/gif' THEN 'gif' WHEN 'audio/ogg' THEN 'ogg' WHEN 'audio/mpeg' THEN 'mp3'
      WHEN 'audio/mp4' THEN 'm4a' WHEN 'audio/aac' THEN 'aac' WHEN 'audio/amr' THEN 'amr'
      WHEN 'video/mp4' THEN 'mp4' WHEN 'video/3gpp' THEN '3gp' WHEN 'application/pdf' THEN 'pdf'
      WHEN 'text/plain' THEN 'txt' WHEN 'application/msword' THEN 'doc'
      WHEN 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' THEN 'docx'
      WHEN 'application/vnd.ms-excel' THEN 'xls'
      WHEN 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' THEN 'xlsx'
      WHEN 'application/vnd.ms-powerpoint' THEN 'ppt'
      WHEN 'application/vnd.openxmlformats-officedocument.presentationml.presentation' THEN 'pptx'
      ELSE 'bin' END
  END
$$;

-- mensajes.mensaje for an inbound event: the text, or the placeholder the old router wrote for
-- media (R:1227-1261) with the caption when there is one.
CREATE OR REPLACE FUNCTION router_texto_crm(p jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE p->>'type'
    WHEN 'image' THEN coalesce(nullif(p->'media'->>'caption', ''), '[Imagen]')
    WHEN 'video' THEN coalesce(nullif(p->'media'->>'caption', ''), '[Video]')
    WHEN 'audio' THEN '[Audio]'
    WHEN 'sticker' THEN '[Sticker]'
    WHEN 'document' THEN coalesce(nullif(p->'media'->>'caption', ''), nullif(p->'media'->>'filename', ''), '[Documento]')
    WHEN 'location' THEN coalesce('[Ubicación: ' || (p->'details'->'location'->>'latitude') || ', '
                                  || (p->'details'->'location'->>'longitude') || ']', '[Ubicación]')
    WHEN 'contacts' THEN '[Contacto compartido]'
    WHEN 'revoke' THEN '[Mensaje eliminado por el cliente]'
    WHEN 'request_welcome' THEN '[El cliente abrió el chat]'
    WHEN 'unsupported' THEN '[Mensaje no soportado por WhatsApp]'
    WHEN 'order' THEN coalesce(nullif(p->>'text', ''), '[Pedido]')
    ELSE coalesce(p->>'text', '[' || (p->>'type') || ']') END
$$;

-- mensajes.tipo as the CRM knows it (R:840): a shared contact card is `contact`.
CREATE OR REPLACE FUNCTION router_tipo_crm(tipo text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE tipo WHEN 'contacts' THEN 'contact' ELSE tipo END
$$;
