import type { Queryable } from '../db.js';
import type { Schema } from './introspect.js';
import { phoneKeySql, type PhoneKeySource } from './phone-key.js';

/**
 * The duplicate groups production holds (CRM-CONTRACT §14), found by the same statements for the
 * check (counts and samples) and the fix (what it merges), so a check after a fix agrees with it.
 * In every group `ids[0]` is the row a merge keeps; a null result means the table or a column the
 * query needs is not there.
 */
export interface DuplicateGroup {
  ids: string[];
  /** The line, for conversations; the conversation(s), for wamids. */
  label: string | null;
}

export function phoneKeySource(schema: Schema): PhoneKeySource {
  return schema.functions.has('router_telefono_clave') ? 'function' : 'inline';
}

/** ORDER BY terms for the columns that exist (CRM and router schemas differ in timestamps). */
function orderTerms(
  schema: Schema,
  table: string,
  alias: string,
  terms: readonly [column: string, direction: 'ASC' | 'DESC'][],
): string {
  return terms
    .filter(([column]) => schema.has(table, column))
    .map(([column, direction]) => `${alias}."${column}" ${direction} NULLS LAST`)
    .concat(`${alias}.id`)
    .join(', ');
}

/** Non-empty wamids on several mensajes rows; survivor = earliest (timestamp, created_at, id). */
export async function duplicateWamids(q: Queryable, schema: Schema): Promise<DuplicateGroup[] | null> {
  if (!schema.has('mensajes', 'whatsapp_message_id')) return null;
  const order = orderTerms(schema, 'mensajes', 'm', [
    ['timestamp', 'ASC'],
    ['created_at', 'ASC'],
  ]);
  const conv = schema.has('mensajes', 'conversacion_id') ? `string_agg(DISTINCT m.conversacion_id::text, ',')` : 'NULL';
  const firstSeen = schema.has('mensajes', 'created_at') ? 'min(m.created_at)' : 'count(*)';
  const res = await q.query<{ ids: string[]; label: string | null }>(
    `SELECT array_agg(m.id::text ORDER BY ${order}) AS ids, ${conv} AS label
       FROM mensajes m
      WHERE m.whatsapp_message_id IS NOT NULL AND m.whatsapp_message_id <> ''
      GROUP BY m.whatsapp_message_id
     HAVING count(*) > 1
      ORDER BY ${firstSeen}, 1`,
  );
  return res.rows;
}

/** Rows with whatsapp_message_id = '' (the old router's "no id", R:218): reported, never merged. */
export async function emptyWamidCount(q: Queryable, schema: Schema): Promise<number | null> {
  if (!schema.has('mensajes', 'whatsapp_message_id')) return null;
  const res = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM mensajes WHERE whatsapp_message_id = ''`);
  return res.rows[0]?.n ?? 0;
}

/**
 * Several conversations of one person on one line. The person is the phone key of the contact's
 * phone (else the conversation's), so the '+549…' and '+54…' spellings meet; without any phone,
 * the contacto_id. Survivor = latest activity (ts_ultimo_mensaje, updated_at, created_at).
 */
export async function duplicateConversations(q: Queryable, schema: Schema): Promise<DuplicateGroup[] | null> {
  if (!schema.has('conversaciones', 'linea_origen') || !schema.has('conversaciones', 'telefono')) return null;
  const withContact = schema.has('conversaciones', 'contacto_id') && schema.has('contactos', 'telefono');
  const phone = withContact ? 'COALESCE(ct.telefono, c.telefono)' : 'c.telefono';
  const byContact = schema.has('conversaciones', 'contacto_id') ? `'contacto:' || c.contacto_id::text, ` : '';
  const join = withContact ? 'LEFT JOIN contactos ct ON ct.id = c.contacto_id' : '';
  const order = orderTerms(schema, 'conversaciones', 'c', [
    ['ts_ultimo_mensaje', 'DESC'],
    ['updated_at', 'DESC'],
    ['created_at', 'DESC'],
  ]);
  const res = await q.query<{ ids: string[]; label: string | null }>(
    `SELECT array_agg(c.id::text ORDER BY ${order}) AS ids, c.linea_origen AS label
       FROM (SELECT c.*, COALESCE(${phoneKeySql(phone, phoneKeySource(schema))}, ${byContact}'conversacion:' || c.id::text) AS persona
               FROM conversaciones c ${join}) c
      GROUP BY c.persona, c.linea_origen
     HAVING count(*) > 1
      ORDER BY 1`,
  );
  return res.rows;
}

/**
 * Contacts whose phones are one WhatsApp number. Survivor = latest activity: the newest
 * ts_ultimo_mensaje of its conversations, then updated_at, then created_at.
 */
export async function duplicateContacts(q: Queryable, schema: Schema): Promise<DuplicateGroup[] | null> {
  if (!schema.has('contactos', 'telefono')) return null;
  const activity =
    schema.has('conversaciones', 'contacto_id') && schema.has('conversaciones', 'ts_ultimo_mensaje')
      ? '(SELECT max(v.ts_ultimo_mensaje) FROM conversaciones v WHERE v.contacto_id = ct.id)'
      : 'NULL::timestamptz';
  const order = [
    'c.actividad DESC NULLS LAST',
    orderTerms(schema, 'contactos', 'c', [
      ['updated_at', 'DESC'],
      ['created_at', 'DESC'],
    ]),
  ].join(', ');
  const res = await q.query<{ ids: string[]; label: string | null }>(
    `SELECT array_agg(c.id::text ORDER BY ${order}) AS ids, NULL::text AS label
       FROM (SELECT ct.*, ${activity} AS actividad, ${phoneKeySql('ct.telefono', phoneKeySource(schema))} AS clave
               FROM contactos ct) c
      WHERE c.clave IS NOT NULL
      GROUP BY c.clave
     HAVING count(*) > 1
      ORDER BY 1`,
  );
  return res.rows;
}
