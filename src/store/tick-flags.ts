/**
 * SQL fragments shared by every statement that moves a message's delivery state, so the CRM's two
 * readings of a tick always agree: `estado_envio` (sent|delivered|read|failed) and, for rows whose
 * estado_envio is null, the booleans enviado/entregado/leido/fallido (CH:880-884).
 */

/** `enviado = …, entregado = …, leido = …, fallido = …` for the new state `expr`; the UPDATE's
 * WHERE guarantees the state only moves forward, so a flag once true stays true. */
export const TICK_FLAGS = (expr: string): string =>
  tickAssignments(expr)
    .map(([col, value]) => `${col} = ${value}`)
    .join(',\n   ');

const tickAssignments = (expr: string): [string, string][] => [
  ['enviado', `m.enviado IS TRUE OR ${expr} IN ('sent', 'delivered', 'read')`],
  ['entregado', `m.entregado IS TRUE OR ${expr} IN ('delivered', 'read')`],
  ['leido', `m.leido IS TRUE OR ${expr} = 'read'`],
  ['fallido', `m.fallido IS TRUE OR ${expr} = 'failed'`],
];

/** Meta's error as error_mensaje shows it: "131047: Re-engagement message — details". */
export const META_ERROR_TEXT = (payload: string): string =>
  `nullif(concat_ws(' — ',
     concat_ws(': ', ${payload}->'errors'->0->>'code', coalesce(${payload}->'errors'->0->>'title', ${payload}->'errors'->0->>'message')),
     ${payload}->'errors'->0->>'details'), '')`;

/**
 * `SELECT` of the best status per wamid among status events: one row per wamid with its highest-
 * ranked tracked state (`estado_envio`), that event's Meta error (`err_code`, `err_text`) and
 * pricing, and every status word of the wamid with its time (`estados`, for metadata.estados).
 * `source` is a query with `wamid` and `payload` (the journalled StatusEvent) columns.
 */
export const BEST_STATUS_PER_WAMID = (source: string): string => `
  SELECT DISTINCT ON (s.wamid) s.wamid, s.estado_envio,
         (s.payload->'errors'->0->>'code')::int AS err_code,
         ${META_ERROR_TEXT('s.payload')} AS err_text,
         s.estados,
         s.payload->'pricing' AS pricing
    FROM (SELECT src.wamid, src.payload, router_estado_de_status(src.payload->>'status') AS estado_envio,
                 jsonb_object_agg(src.payload->>'status', to_timestamp((src.payload->>'timestamp')::double precision))
                   FILTER (WHERE src.payload->>'status' IS NOT NULL) OVER (PARTITION BY src.wamid) AS estados
            FROM (${source}) src) s
   WHERE s.estado_envio IS NOT NULL
   ORDER BY s.wamid, router_rango_estado(s.estado_envio) DESC`;

/**
 * The SET list that moves `mensajes m` to the status row `st` (columns of BEST_STATUS_PER_WAMID):
 * the state, its ticks, Meta's error on a failure, the status times and the pricing. With `when`,
 * every column keeps its value unless `when` holds: for an UPDATE that writes other columns too.
 */
export const STATUS_SET = (st: string, when?: string): string => {
  const estado = `${st}.estado_envio`;
  const assignments: [string, string][] = [
    ['estado_envio', estado],
    ...tickAssignments(estado),
    ['error_codigo', `CASE WHEN ${estado} = 'failed' THEN ${st}.err_code ELSE m.error_codigo END`],
    ['error_mensaje', `CASE WHEN ${estado} = 'failed' THEN ${st}.err_text ELSE m.error_mensaje END`],
    [
      'metadata',
      `m.metadata
        || jsonb_build_object('estados', coalesce(m.metadata->'estados', '{}'::jsonb) || coalesce(${st}.estados, '{}'::jsonb))
        || CASE WHEN jsonb_typeof(${st}.pricing) = 'object' THEN jsonb_build_object('pricing', ${st}.pricing) ELSE '{}'::jsonb END`,
    ],
  ];
  return assignments
    .map(([col, value]) => `${col} = ${when ? `CASE WHEN ${when} THEN ${value} ELSE m.${col} END` : value}`)
    .join(',\n         ');
};
