import type { AdCourse, AdOption, AdsCatalog, AdConfig, Cohort } from '../routing/ads/ads-types.js';
import type { AutoreplyConfig } from '../routing/autoreply/decide-autoreply.js';
import type { Queryable } from './db.js';

export interface FlowCatalogRows {
  ads: AdsCatalog;
  /** By line code (config_autorespuestas.linea). */
  autoreplies: ReadonlyMap<string, AutoreplyConfig>;
}

/**
 * The catalogs of the ads funnel and the autoreplies, as the CRM's Automatizaciones and Ajustes
 * pages leave them, in one round trip. Loaded with the menus by the catalog cache, so an edit in
 * the CRM applies within CATALOG_TTL_MS, without a restart. Courses come whole (`to_jsonb`): an
 * info option may name any `cursos` column in `campo_info`.
 */
export async function loadFlowCatalogRows(db: Queryable): Promise<FlowCatalogRows> {
  const res = await db.query<{
    courses: unknown;
    options: unknown;
    ads: unknown;
    cohorts: unknown;
    autoreplies: unknown;
  }>(`
    SELECT
      coalesce((SELECT json_agg(to_jsonb(c)) FROM cursos c), '[]'::json) AS courses,
      coalesce((SELECT json_agg(json_build_object('id', o.id::text, 'courseId', o.curso_id::text, 'order', coalesce(o.orden, 0),
          'emoji', o.emoji, 'title', coalesce(o.titulo, ''), 'subtitle', o.subtitulo, 'type', o.tipo, 'infoField', o.campo_info,
          'customReply', o.respuesta_custom, 'showMenuAfter', coalesce(o.mostrar_menu_despues, true),
          'derivationMessage', o.mensaje_derivacion) ORDER BY o.orden, o.created_at, o.id)
        FROM menu_opciones o WHERE coalesce(o.activo, true) AND o.tipo IN ('info', 'derivar', 'inscribir')), '[]'::json) AS options,
      coalesce((SELECT json_agg(json_build_object('id', a.id::text, 'adId', a.ad_id, 'courseId', a.curso_id::text, 'name', a.nombre)
                 ORDER BY a.created_at, a.id)
        FROM config_cursos_ctwa a WHERE coalesce(a.activo, true) AND nullif(btrim(a.ad_id), '') IS NOT NULL), '[]'::json) AS ads,
      coalesce((SELECT json_agg(json_build_object('code', k.curso_codigo, 'name', k.nombre, 'year', coalesce(k.cohorte_anio, 0),
                 'month', coalesce(k.cohorte_mes, 0)))
        FROM cursos_cohortes k WHERE k.curso_codigo IS NOT NULL AND k.nombre IS NOT NULL), '[]'::json) AS cohorts,
      coalesce((SELECT json_agg(json_build_object('line', r.linea, 'active', coalesce(r.activo, false),
          'cooldownHours', coalesce(r.cooldown_horas, 2), 'agentGuardMinutes', coalesce(r.no_enviar_si_agente_respondio_min, 30),
          'bands', json_build_array(r.mensaje_franja_1, r.mensaje_franja_2, r.mensaje_franja_3, r.mensaje_franja_4),
          'cut', coalesce(r.corte_activo, false)) ORDER BY r.updated_at DESC NULLS LAST)
        FROM config_autorespuestas r), '[]'::json) AS autoreplies`);
  const row = res.rows[0];
  const parse = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));
  const options = parse<AdOption[]>(row?.options ?? []);
  const courses = new Map<string, AdCourse>();
  for (const c of parse<Record<string, unknown>[]>(row?.courses ?? [])) {
    const id = String(c['id']);
    courses.set(id, {
      id,
      code: str(c['codigo']) ?? '',
      name: str(c['nombre']) ?? str(c['codigo']) ?? '',
      webName: str(c['psi_nombre']),
      active: c['activo'] !== false,
      directEntry: c['disponible_entrada_directa'] !== false,
      kind: str(c['tipo_formacion']),
      category: str(c['categoria']),
      description: str(c['descripcion']),
      greeting: str(c['mensaje_saludo']),
      welcome: str(c['mensaje_bienvenida']),
      menuBody: str(c['mensaje_menu_body']),
      fields: c,
      options: options.filter((o) => o.courseId === id),
    });
  }
  // Two active rows for one ad (the CRM allows it): the oldest wins, where `.single()` answered nothing.
  const ads = new Map<string, AdConfig>();
  for (const a of parse<AdConfig[]>(row?.ads ?? [])) if (!ads.has(a.adId)) ads.set(a.adId, a);
  // One row per line; should the CRM hold two, the newest edit wins.
  const autoreplies = new Map<string, AutoreplyConfig>();
  for (const r of parse<AutoreplyConfig[]>(row?.autoreplies ?? []))
    if (!autoreplies.has(r.line)) autoreplies.set(r.line, r);
  return { ads: { courses, ads, cohorts: parse<Cohort[]>(row?.cohorts ?? []) }, autoreplies };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);
