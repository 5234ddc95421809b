-- Customer-facing texts and the default areas. Applied at every start with ON CONFLICT DO NOTHING:
-- it adds keys a new version needs and never overwrites what the CRM edited.
-- Placeholders: {area} area name, {ticket} ticket id, {page}/{pages} course list page.

INSERT INTO router_textos (clave, texto) VALUES
  ('derivacion_confirmacion', '✅ Te derivamos con {area}. Tu número de ticket es {ticket}. En breve una persona del equipo te responde por acá. ¡Gracias por tu paciencia!'),
  ('ya_derivado', 'Ya te derivamos con {area}: en breve te responden por acá.'),
  ('nota_linea_inbox', 'Hola 👋 Este número no recibe consultas. Escribinos a nuestro número principal y te atendemos enseguida.'),
  ('cursos_header', 'Cursos'),
  ('cursos_body', 'Elegí un curso para hablar con un asesor (página {page} de {pages}).'),
  ('cursos_boton', 'Ver cursos'),
  ('cursos_siguiente', 'Más cursos ▶'),
  ('cursos_anterior', '◀ Anteriores'),
  ('volver', '↩️ Menú principal'),
  ('sin_cursos', 'Por ahora no hay cursos abiertos. Escribí MENU para volver al menú.')
ON CONFLICT (clave) DO NOTHING;

-- The CRM's inbox codes (T:5, CH:1254). `administracion` is the CRM's "Nuevo chat" spelling of admin.
INSERT INTO router_areas (id, nombre, inbox_webhook_url) VALUES
  ('admin', 'Administración', NULL),
  ('alumnos', 'Alumnos', NULL),
  ('ventas', 'Ventas', NULL),
  ('comunidad', 'Comunidad', NULL),
  ('ventas_api', 'Ventas API', NULL),
  ('administracion', 'Administración', NULL)
ON CONFLICT (id) DO NOTHING;
