import type { Area, Course, Line, Menu, MenuOption } from '../routing/types.js';
import type { Queryable } from './db.js';
import { loadFlowCatalogRows, type FlowCatalogRows } from './flow-catalog-repository.js';

export interface CatalogRows {
  /** The ads funnel's and the autoreplies' catalogs (flow-catalog-repository.ts). */
  flows?: FlowCatalogRows;
  menus: Menu[];
  courses: Course[];
  areas: Area[];
  lines: Line[];
  texts: Record<string, string>;
}

/**
 * Everything the routing engine reads, in one round trip (json aggregates per table). Called by the
 * catalog cache at most once per TTL, so CRM edits show up without a restart. Menus are named by
 * `tipo_menu` (the CRM's key); an option's `submenu_id` (a config row uuid) is resolved to the
 * submenu's `tipo_menu` here. Menus are always sent as interactive lists, as the old router did.
 */
export async function loadCatalogRows(db: Queryable): Promise<CatalogRows> {
  const res = await db.query<{ menus: unknown; courses: unknown; areas: unknown; lines: unknown; texts: unknown }>(`
    SELECT
      coalesce((SELECT json_agg(json_build_object(
          'id', coalesce(m.tipo_menu, m.id::text), 'name', coalesce(m.nombre, m.tipo_menu, ''), 'header', m.header,
          'body', coalesce(m.body, ''), 'footer', m.footer, 'buttonText', m.button_text, 'kind', 'list',
          'parentMenuId', (SELECT p.tipo_menu FROM router_menu_config p WHERE p.id = m.parent_menu_id),
          'options', coalesce((SELECT json_agg(json_build_object(
              'optionId', o.opcion_id, 'order', coalesce(o.orden, 0), 'emoji', o.emoji, 'title', coalesce(o.titulo, o.opcion_id),
              'description', o.descripcion, 'action', o.tipo_accion,
              'submenuId', (SELECT s.tipo_menu FROM router_menu_config s WHERE s.id = o.submenu_id),
              'area', o.area_destino, 'subLabel', o.subetiqueta, 'contextMessage', o.mensaje_contexto)
              ORDER BY o.orden, o.opcion_id)
            FROM router_menu_opciones o
           WHERE o.menu_config_id = m.id AND coalesce(o.activo, true) AND o.opcion_id IS NOT NULL
             AND o.tipo_accion IN ('derivar', 'submenu', 'volver', 'cursos_dinamico')), '[]'::json))
          ORDER BY m.tipo_menu, m.created_at)
        FROM router_menu_config m WHERE coalesce(m.activo, true)), '[]'::json) AS menus,
      coalesce((SELECT json_agg(json_build_object('id', c.id::text, 'code', coalesce(c.codigo, ''), 'name', coalesce(c.nombre, c.codigo, ''))
                 ORDER BY c.nombre, c.codigo)
        FROM cursos c WHERE coalesce(c.activo, true)), '[]'::json) AS courses,
      coalesce((SELECT json_agg(json_build_object('id', a.id, 'name', a.nombre, 'inboxUrl', a.inbox_webhook_url))
        FROM router_areas a WHERE a.activo), '[]'::json) AS areas,
      coalesce((SELECT json_agg(json_build_object('code', l.codigo, 'name', l.nombre, 'kind', l.tipo,
          'phoneNumberId', l.phone_number_id, 'flow', l.flujo, 'settings', l.ajustes))
        FROM router_lineas l WHERE l.activo), '[]'::json) AS lines,
      coalesce((SELECT json_object_agg(t.clave, t.texto) FROM router_textos t), '{}'::json) AS texts`);
  const row = res.rows[0];
  const parse = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));
  return {
    flows: await loadFlowCatalogRows(db),
    menus: dedupeMenus(parse<Menu[]>(row?.menus ?? []).map((m) => ({ ...m, options: parse<MenuOption[]>(m.options) }))),
    courses: parse<Course[]>(row?.courses ?? []),
    areas: parse<Area[]>(row?.areas ?? []),
    lines: parse<Line[]>(row?.lines ?? []),
    texts: parse<Record<string, string>>(row?.texts ?? {}),
  };
}

/** Two active rows with one tipo_menu (the CRM allows it): the first one wins, as a `.single()` would not decide. */
function dedupeMenus(menus: Menu[]): Menu[] {
  const seen = new Set<string>();
  return menus.filter((m) => (seen.has(m.id) ? false : (seen.add(m.id), true)));
}
