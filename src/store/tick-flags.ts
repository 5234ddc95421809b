/**
 * SQL fragments shared by every statement that moves a message's delivery state, so the CRM's two
 * readings of a tick always agree: `estado_envio` (sent|delivered|read|failed) and, for rows whose
 * estado_envio is null, the booleans enviado/entregado/leido/fallido (CH:880-884).
 */

/** `enviado = …, entregado = …, leido = …, fallido = …` for the new state `expr`; the UPDATE's
 * WHERE guarantees the state only moves forward, so a flag once true stays true. */
export const TICK_FLAGS = (expr: string): string =>
  `enviado = m.enviado IS TRUE OR ${expr} IN ('sent', 'delivered', 'read'),
   entregado = m.entregado IS TRUE OR ${expr} IN ('delivered', 'read'),
   leido = m.leido IS TRUE OR ${expr} = 'read',
   fallido = m.fallido IS TRUE OR ${expr} = 'failed'`;

/** Meta's error as error_mensaje shows it: "131047: Re-engagement message — details". */
export const META_ERROR_TEXT = (payload: string): string =>
  `nullif(concat_ws(' — ',
     concat_ws(': ', ${payload}->'errors'->0->>'code', coalesce(${payload}->'errors'->0->>'title', ${payload}->'errors'->0->>'message')),
     ${payload}->'errors'->0->>'details'), '')`;
