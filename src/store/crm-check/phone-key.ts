/**
 * The phone key: one WhatsApp number, one key, whatever spelling the CRM stored ('+549…', '+54' +
 * 10 digits from "Nuevo chat", no '+'). Digits only; an Argentine number without the mobile 9
 * (54 + 10 digits) gets it after the 54. migrations/0105-router-fusiones.sql creates the same rule as
 * `router_telefono_clave(text)`; this inline form serves databases where it has not run yet.
 * `{t}` stands for the argument. A test checks both forms agree.
 */
export const TELEFONO_CLAVE_SQL =
  "CASE WHEN regexp_replace({t}, '[^0-9]', '', 'g') ~ '^54[0-9]{10}$'" +
  " THEN '549' || substr(regexp_replace({t}, '[^0-9]', '', 'g'), 3)" +
  " ELSE regexp_replace({t}, '[^0-9]', '', 'g') END";

export type PhoneKeySource = 'function' | 'inline';

/** SQL computing the phone key of `arg` (a column or expression), NULL when it has no digits. */
export function phoneKeySql(arg: string, source: PhoneKeySource): string {
  const key =
    source === 'function' ? `router_telefono_clave(${arg})` : `(${TELEFONO_CLAVE_SQL.replaceAll('{t}', arg)})`;
  // '' would put every phoneless row in one group.
  return `NULLIF(${key}, '')`;
}
