-- Customer-facing texts and the default areas. Applied at every start with ON CONFLICT DO NOTHING:
-- it adds keys a new version needs and never overwrites what the CRM edited.
-- Placeholders: {area} area name, {ticket} ticket id, {page}/{pages} course list page.

INSERT INTO router_textos (clave, texto) VALUES
  ('derivacion_confirmacion', '¡Listo! Te derivamos con {area}. Tu número de ticket es {ticket}. Una persona del equipo te va a responder por acá.'),
  ('ya_derivado', 'Ya te derivamos con {area}: en breve te responden por acá. Si querés volver al menú escribí MENU.'),
  ('nota_linea_inbox', 'Hola 👋 Este número no recibe consultas. Escribinos a nuestro número principal y te atendemos enseguida.'),
  ('cursos_header', 'Cursos'),
  ('cursos_body', 'Elegí un curso para hablar con un asesor (página {page} de {pages}).'),
  ('cursos_boton', 'Ver cursos'),
  ('cursos_siguiente', 'Más cursos ▶'),
  ('cursos_anterior', '◀ Anteriores'),
  ('volver', '↩️ Menú principal'),
  ('sin_cursos', 'Por ahora no hay cursos abiertos. Escribí MENU para volver al menú.')
ON CONFLICT (clave) DO NOTHING;

INSERT INTO router_areas (id, nombre, inbox_webhook_url) VALUES
  ('administracion', 'Administración', NULL),
  ('alumnos', 'Alumnos', NULL),
  ('ventas', 'Inscripciones', NULL),
  ('comunidad', 'Comunidad', NULL)
ON CONFLICT (id) DO NOTHING;
