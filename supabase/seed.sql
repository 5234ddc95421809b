-- Default menu for the main number. Loaded by the router (and by `supabase db reset`) only when
-- router_menu_config is empty, so menus edited in the CRM are never overwritten. Texts are data:
-- change them in the CRM, not in code.

INSERT INTO router_menu_config (id, nombre, header, body, footer, button_text, tipo_menu, activo, parent_menu_id) VALUES
  ('principal', 'Menú principal', '¡Hola! 👋', '¿En qué podemos ayudarte? Elegí un área de la lista.', 'Escribí MENU para volver aquí', 'Ver opciones', 'list', true, NULL),
  ('alumnos', 'Alumnos', 'Alumnos', '¿Qué necesitás?', 'Escribí MENU para volver', 'Ver opciones', 'list', true, 'principal'),
  ('inscripciones', 'Inscripciones', 'Inscripciones', 'Elegí una opción para inscribirte o consultar cursos.', 'Escribí MENU para volver', 'Ver opciones', 'list', true, 'principal')
ON CONFLICT (id) DO NOTHING;

INSERT INTO router_menu_opciones (menu_config_id, orden, opcion_id, emoji, titulo, descripcion, tipo_accion, submenu_id, area_destino, subetiqueta, mensaje_contexto) VALUES
  ('principal', 1, 'administracion', '💳', 'Administración', 'Pagos, cuotas y facturas', 'derivar', NULL, 'administracion', NULL, 'Consulta administrativa'),
  ('principal', 2, 'alumnos', '🎓', 'Alumnos', 'Clases, campus y certificados', 'submenu', 'alumnos', NULL, NULL, NULL),
  ('principal', 3, 'inscripciones', '📝', 'Inscripciones', 'Cursos, precios e inscripción', 'submenu', 'inscripciones', NULL, NULL, NULL),
  ('principal', 4, 'comunidad', '🤝', 'Comunidad', 'Eventos y novedades', 'derivar', NULL, 'comunidad', NULL, 'Consulta de comunidad'),
  ('alumnos', 1, 'alumnos_campus', '💻', 'Campus virtual', 'Acceso y problemas técnicos', 'derivar', NULL, 'alumnos', 'campus', 'Problema con el campus'),
  ('alumnos', 2, 'alumnos_certificados', '📜', 'Certificados', 'Pedido de certificados', 'derivar', NULL, 'alumnos', 'certificados', 'Pedido de certificado'),
  ('alumnos', 3, 'alumnos_otro', '💬', 'Otra consulta', 'Hablar con el equipo de alumnos', 'derivar', NULL, 'alumnos', 'otro', NULL),
  ('alumnos', 9, 'alumnos_volver', '↩️', 'Volver', 'Menú principal', 'volver', NULL, NULL, NULL, NULL),
  ('inscripciones', 1, 'inscripciones_cursos', '📚', 'Ver cursos', 'Lista de cursos abiertos', 'cursos_dinamico', NULL, 'ventas', 'curso', NULL),
  ('inscripciones', 2, 'inscripciones_asesor', '🙋', 'Hablar con un asesor', 'Precios, becas y formas de pago', 'derivar', NULL, 'ventas', 'asesor', 'Quiere hablar con un asesor'),
  ('inscripciones', 9, 'inscripciones_volver', '↩️', 'Volver', 'Menú principal', 'volver', NULL, NULL, NULL, NULL)
ON CONFLICT (menu_config_id, opcion_id) DO NOTHING;

INSERT INTO cursos (codigo, nombre, activo) VALUES
  ('PROG-01', 'Programación inicial', true),
  ('DIS-01', 'Diseño gráfico', true),
  ('MKT-01', 'Marketing digital', true),
  ('ING-01', 'Inglés conversacional', true)
ON CONFLICT (codigo) DO NOTHING;
