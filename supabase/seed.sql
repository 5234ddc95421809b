-- Default menu for the main number (wsp4). Loaded by the router (and by `supabase db reset`) only
-- when router_menu_config is empty, so menus edited in the CRM are never overwritten. Menus are
-- named by tipo_menu ('principal' is the main menu); options reach submenus through submenu_id.
-- Texts are data: change them in the CRM (Ajustes), not in code.

INSERT INTO router_menu_config (nombre, header, body, footer, button_text, tipo_menu, activo)
SELECT v.nombre, v.header, v.body, v.footer, v.button_text, v.tipo_menu, true
  FROM (VALUES
    ('Menú principal', '¡Hola! 👋', '¿En qué podemos ayudarte? Elegí un área de la lista.', 'Elegí una opción', 'Ver opciones', 'principal'),
    ('Alumnos', 'Alumnos', '¿Qué necesitás?', 'Elegí una opción', 'Ver opciones', 'alumnos'),
    ('Inscripciones', 'Inscripciones', 'Elegí una opción para inscribirte o consultar cursos.', 'Elegí una opción', 'Ver opciones', 'inscripciones')
  ) AS v(nombre, header, body, footer, button_text, tipo_menu)
 WHERE NOT EXISTS (SELECT 1 FROM router_menu_config);

UPDATE router_menu_config c SET parent_menu_id = p.id
  FROM router_menu_config p
 WHERE p.tipo_menu = 'principal' AND c.tipo_menu IN ('alumnos', 'inscripciones') AND c.parent_menu_id IS NULL;

INSERT INTO router_menu_opciones (menu_config_id, orden, opcion_id, emoji, titulo, descripcion, tipo_accion, submenu_id, area_destino, subetiqueta, mensaje_contexto, activo)
SELECT m.id, v.orden, v.opcion_id, v.emoji, v.titulo, v.descripcion, v.tipo_accion,
       (SELECT s.id FROM router_menu_config s WHERE s.tipo_menu = v.submenu),
       v.area_destino, v.subetiqueta, v.mensaje_contexto, true
  FROM (VALUES
    ('principal', 1, 'admin', '💳', 'Administración', 'Pagos, cuotas y facturas', 'derivar', NULL, 'admin', NULL, 'Consulta administrativa'),
    ('principal', 2, 'alumnos', '🎓', 'Alumnos', 'Clases, campus y certificados', 'submenu', 'alumnos', NULL, NULL, NULL),
    ('principal', 3, 'inscripciones', '📝', 'Inscripciones', 'Cursos, precios e inscripción', 'submenu', 'inscripciones', NULL, NULL, NULL),
    ('principal', 4, 'comunidad', '🤝', 'Comunidad', 'Eventos y novedades', 'derivar', NULL, 'comunidad', NULL, 'Consulta de comunidad'),
    ('alumnos', 1, 'alumnos_campus', '💻', 'Campus virtual', 'Acceso y problemas técnicos', 'derivar', NULL, 'alumnos', 'campus', 'Problema con el campus'),
    ('alumnos', 2, 'alumnos_certificados', '📜', 'Certificados', 'Pedido de certificados', 'derivar', NULL, 'alumnos', 'certificados', 'Pedido de certificado'),
    ('alumnos', 3, 'alumnos_otro', '💬', 'Otra consulta', 'Hablar con el equipo de alumnos', 'derivar', NULL, 'alumnos', 'otro', 'Otra consulta de alumnos'),
    ('alumnos', 9, 'alumnos_volver', '↩️', 'Volver', 'Menú principal', 'volver', NULL, NULL, NULL, NULL),
    ('inscripciones', 1, 'inscripciones_cursos', '📚', 'Ver cursos', 'Lista de cursos abiertos', 'cursos_dinamico', NULL, 'ventas', 'curso', NULL),
    ('inscripciones', 2, 'inscripciones_asesor', '🙋', 'Hablar con un asesor', 'Precios, becas y formas de pago', 'derivar', NULL, 'ventas', 'asesor', 'Quiere hablar con un asesor'),
    ('inscripciones', 9, 'inscripciones_volver', '↩️', 'Volver', 'Menú principal', 'volver', NULL, NULL, NULL, NULL)
  ) AS v(menu, orden, opcion_id, emoji, titulo, descripcion, tipo_accion, submenu, area_destino, subetiqueta, mensaje_contexto)
  JOIN router_menu_config m ON m.tipo_menu = v.menu
 WHERE NOT EXISTS (SELECT 1 FROM router_menu_opciones);

INSERT INTO cursos (codigo, nombre, activo)
SELECT v.codigo, v.nombre, true
  FROM (VALUES ('PROG-01', 'Programación inicial'), ('DIS-01', 'Diseño gráfico'), ('MKT-01', 'Marketing digital'), ('ING-01', 'Inglés conversacional')) AS v(codigo, nombre)
 WHERE NOT EXISTS (SELECT 1 FROM cursos);
