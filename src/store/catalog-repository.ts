import type { Area, Course, Line, Menu, MenuOption } from '../routing/types.js';
import type { Queryable } from './db.js';

export interface CatalogRows {
  menus: Menu[];
  courses: Course[];
  areas: Area[];
  lines: Line[];
  texts: Record<string, string>;
}

/**
 * Everything the routing engine reads, in one round trip (json aggregates per table). Called by the
 * catalog cache at most once per TTL, so CRM edits show up without a restart.
 */
export async function loadCatalogRows(db: Queryable): Promise<CatalogRows> {
  const res = await db.query<{ menus: unknown; courses: unknown; areas: unknown; lines: unknown; texts: unknown }>(`
    SELECT
      coalesce((SELECT json_agg(json_build_object(
          'id', m.id, 'name', m.nombre, 'header', m.header, 'body', m.body, 'footer', m.footer,
          'buttonText', m.button_text, 'kind', m.tipo_menu, 'parentMenuId', m.parent_menu_id,
          'options', coalesce((SELECT json_agg(json_build_object(
              'optionId', o.opcion_id, 'order', o.orden, 'emoji', o.emoji, 'title', o.titulo,
              'description', o.descripcion, 'action', o.tipo_accion, 'submenuId', o.submenu_id,
              'area', o.area_destino, 'subLabel', o.subetiqueta, 'contextMessage', o.mensaje_contexto)
              ORDER BY o.orden, o.opcion_id)
            FROM router_menu_opciones o WHERE o.menu_config_id = m.id AND o.activo), '[]'::json)))
        FROM router_menu_config m WHERE m.activo), '[]'::json) AS menus,
      coalesce((SELECT json_agg(json_build_object('code', c.codigo, 'name', c.nombre) ORDER BY c.nombre, c.codigo)
        FROM cursos c WHERE c.activo), '[]'::json) AS courses,
      coalesce((SELECT json_agg(json_build_object('id', a.id, 'name', a.nombre, 'inboxUrl', a.inbox_webhook_url))
        FROM router_areas a WHERE a.activo), '[]'::json) AS areas,
      coalesce((SELECT json_agg(json_build_object('phoneNumberId', l.phone_number_id, 'name', l.nombre, 'mode', l.modo))
        FROM router_lineas l WHERE l.activo), '[]'::json) AS lines,
      coalesce((SELECT json_object_agg(t.clave, t.texto) FROM router_textos t), '{}'::json) AS texts`);
  const row = res.rows[0];
  const parse = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));
  return {
    menus: parse<Menu[]>(row?.menus ?? []).map((m) => ({ ...m, options: parse<MenuOption[]>(m.options) })),
    courses: parse<Course[]>(row?.courses ?? []),
    areas: parse<Area[]>(row?.areas ?? []),
    lines: parse<Line[]>(row?.lines ?? []),
    texts: parse<Record<string, string>>(row?.texts ?? {}),
  };
}
