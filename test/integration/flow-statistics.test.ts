import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AD_AT, q, startFlowsRig, type FlowsRig } from '../helpers/flows-rig.js';

/**
 * Every chart of the CRM's Estadísticas (ES) and Automatizaciones (SC, CP) pages that reads the
 * flows' rows, as the SQL its Supabase query amounts to (FLOWS.md §C, CRM-CONTRACT §8–§9), run after
 * a scripted day of traffic through psi-router. `$1` is the start of "today" (the day's traffic
 * starts after it; the fixture's older rows fall before it).
 */
const CHARTS = {
  // ES:255-259 — menu_sesiones.created_at >= inicioHoy
  leadsToday: `SELECT count(*)::int AS n FROM menu_sesiones WHERE created_at >= $1`,
  // ES:261-263 — all sessions, split by ctwa_clid (truthy)
  esCtwaVsDirect: `SELECT count(*) FILTER (WHERE coalesce(ctwa_clid, '') <> '')::int AS ctwa,
                          count(*) FILTER (WHERE coalesce(ctwa_clid, '') = '')::int AS directo
                     FROM menu_sesiones WHERE created_at >= $1`,
  // SC:61-77 — leads by origen in the period
  scByOrigin: `SELECT count(*) FILTER (WHERE origen = 'ctwa')::int AS ctwa, count(*) FILTER (WHERE origen = 'directo')::int AS directo,
                      count(*) FILTER (WHERE origen = 'web')::int AS web
                 FROM menu_sesiones WHERE created_at >= $1`,
  // SC:86-88 — engaged sessions (interacciones > 0)
  scEngaged: `SELECT count(*)::int AS n FROM menu_sesiones WHERE created_at >= $1 AND interacciones > 0`,
  // ES:272-290 — top courses: one count per tap row with a curso_nombre
  esTopCourses: `SELECT curso_nombre, count(*)::int AS n FROM menu_interacciones
                  WHERE curso_nombre IS NOT NULL AND created_at >= $1 GROUP BY 1 ORDER BY 2 DESC LIMIT 5`,
  // ES:292-302 — top ads from the legacy counters (all time)
  esTopAds: `SELECT ad_id, ejecuciones FROM config_ctwa_anuncios WHERE activo = true ORDER BY ejecuciones DESC LIMIT 5`,
  // CP:749 — the ad's executions on the course page
  cpExecutions: `SELECT ad_id, ejecuciones FROM config_cursos_ctwa ORDER BY ad_id`,
  // SC:199-214 — option counts by opcion_id
  scOptions: `SELECT o.titulo, count(i.id)::int AS n FROM menu_opciones o
                LEFT JOIN menu_interacciones i ON i.opcion_id = o.id AND i.created_at >= $1
               GROUP BY o.titulo HAVING count(i.id) > 0 ORDER BY o.titulo`,
  // SC:244-259 — per ad: sessions and inscribir taps by config_ctwa_id
  scPerAd: `SELECT a.ad_id,
                   (SELECT count(*)::int FROM menu_sesiones s WHERE s.config_ctwa_id = a.id AND s.created_at >= $1) AS leads,
                   (SELECT count(*)::int FROM menu_interacciones i WHERE i.config_ctwa_id = a.id AND i.tipo_opcion = 'inscribir'
                       AND i.created_at >= $1) AS inscripciones
              FROM config_cursos_ctwa a ORDER BY a.ad_id`,
  // ES:219-225 — derivations today by area_destino
  esDerivationsByArea: `SELECT area_destino, count(*)::int AS n FROM derivaciones WHERE created_at >= $1 GROUP BY 1 ORDER BY 1`,
  // ES:31-50, 379-383 — the area tab's options: derivaciones.menu_option_selected
  esAreaOptions: `SELECT menu_option_selected, count(*)::int AS n FROM derivaciones
                   WHERE area_destino = 'ventas_api' AND created_at >= $1 GROUP BY 1 ORDER BY 1`,
  // ES:232-234 — autoreplies today, both lines
  esAutorepliesToday: `SELECT count(*)::int AS n FROM autorespuestas_enviadas WHERE enviado_at >= $1`,
  // ES:211-214 — active WSP4 conversations (the ads number's are not WSP4's)
  esActiveWsp4: `SELECT count(*)::int AS n FROM conversaciones
                  WHERE (linea_origen = 'wsp4' OR linea_origen IS NULL) AND estado IN ('activa', 'abierta', 'en_menu')
                    AND created_at >= $1`,
  // RM:159-230 — remarketing segments join taps to contacts by phone
  rmJoin: `SELECT count(*)::int AS n FROM menu_interacciones i JOIN contactos c ON c.telefono = i.telefono WHERE i.created_at >= $1`,
} as const;

describe('the statistics pages after a day of flows traffic', () => {
  let f: FlowsRig;
  beforeAll(async () => {
    f = await startFlowsRig();
  }, 120_000);
  afterAll(async () => {
    await f?.close();
  });

  const chart = async (name: keyof typeof CHARTS, since: Date) => q(CHARTS[name], [since]);

  it('when the day has ad leads, a direct lead, a web lead, an advisor request, a redelivery and an autoreply, then every chart counts them right', async () => {
    const [{ since }] = (await q<{ since: Date }>(`SELECT now() AS since`)) as [{ since: Date }];
    const legacyBefore = await q(CHARTS.esTopAds);
    expect(legacyBefore).toEqual([]);

    // A: ad → price → enrol (its click redelivered by Meta). B: ad → modality.
    const clickA = await f.adClick('5491172000001', AD_AT);
    await f.tap('5491172000001', f.options.precio);
    await f.tap('5491172000001', f.options.inscribir);
    await f.post(clickA);
    await f.adClick('5491172000002', AD_AT);
    await f.tap('5491172000002', f.options.modalidad);
    // C: an ad nobody configured → buttons → courses → AT → advisor.
    await f.adClick('5491172000003', '120219999999999999');
    await f.tap('5491172000003', 'tipo_curso', { button: true });
    await f.tap('5491172000003', `curso_${f.facts.ids.cursoAt}`);
    await f.tap('5491172000003', f.options.asesor);
    // D: writes directly and asks for an advisor.
    await f.say('5491172000004', 'hola');
    await f.tap('5491172000004', 'hablar_agente', { button: true });
    // E: the website's button, then the price.
    await f.say('5491172000005', 'Hola, quiero info sobre el curso Acompañante Terapéutico en la web');
    await f.tap('5491172000005', f.options.precio);
    // F: the main number during office hours gets band 3.
    await f.say('5491172000006', 'hola', { line: 'wsp4' });

    expect(await chart('leadsToday', since)).toEqual([{ n: 5 }]);
    // The two pages agree on today's ad leads (§D8): ES by ctwa_clid, SC by origen.
    expect(await chart('esCtwaVsDirect', since)).toEqual([{ ctwa: 3, directo: 2 }]);
    expect(await chart('scByOrigin', since)).toEqual([{ ctwa: 3, directo: 1, web: 1 }]);
    expect(await chart('scEngaged', since)).toEqual([{ n: 5 }]);
    expect(await chart('esTopCourses', since)).toEqual([{ curso_nombre: 'Acompañante Terapéutico', n: 5 }]);
    expect(await q(CHARTS.esTopAds)).toEqual([{ ad_id: AD_AT, ejecuciones: 2 }]);
    expect(await q(CHARTS.cpExecutions)).toEqual([{ ad_id: AD_AT, ejecuciones: 16 }]);
    expect(await chart('scOptions', since)).toEqual([
      { titulo: 'Hablar con un asesor', n: 1 },
      { titulo: 'Inscribirme', n: 1 },
      { titulo: 'Modalidad', n: 1 },
      { titulo: 'Precio', n: 2 },
    ]);
    expect(await chart('scPerAd', since)).toEqual([{ ad_id: AD_AT, leads: 2, inscripciones: 1 }]);
    expect(await chart('esDerivationsByArea', since)).toEqual([{ area_destino: 'ventas_api', n: 3 }]);
    expect(await chart('esAreaOptions', since)).toEqual(
      [
        { menu_option_selected: f.options.asesor, n: 1 },
        { menu_option_selected: f.options.inscribir, n: 1 },
        { menu_option_selected: 'hablar_agente', n: 1 },
      ].sort((a, b) => a.menu_option_selected.localeCompare(b.menu_option_selected)),
    );
    expect(await chart('esAutorepliesToday', since)).toEqual([{ n: 1 }]);
    expect(await chart('esActiveWsp4', since)).toEqual([{ n: 1 }]);
    expect(await chart('rmJoin', since)).toEqual([{ n: 5 }]);
  });
});
