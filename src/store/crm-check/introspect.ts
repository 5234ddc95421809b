import type { Queryable } from '../db.js';

/**
 * What the live database has, from the catalogs (schema `public` only). Read once per check or fix,
 * so every decision about which columns to touch is made against the database actually there,
 * never against what the migrations assume (CRM-CONTRACT: "the live database decides").
 */
export interface ColumnInfo {
  /** format_type(): 'text', 'uuid', 'timestamp with time zone', 'character varying(20)', … */
  type: string;
  nullable: boolean;
}

export interface IndexInfo {
  name: string;
  table: string;
  unique: boolean;
  definition: string;
}

export interface Schema {
  tables: ReadonlySet<string>;
  views: ReadonlySet<string>;
  columns: ReadonlyMap<string, ReadonlyMap<string, ColumnInfo>>;
  indexes: ReadonlyMap<string, IndexInfo>;
  functions: ReadonlySet<string>;
  /** A base table, or one of its columns, exists. */
  has(table: string, column?: string): boolean;
  column(table: string, column: string): ColumnInfo | undefined;
}

export async function loadSchema(q: Queryable): Promise<Schema> {
  const rels = await q.query<{ name: string; kind: string }>(
    `SELECT c.relname AS name, c.relkind::text AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')`,
  );
  const cols = await q.query<{ tbl: string; col: string; type: string; notnull: boolean }>(
    `SELECT c.relname AS tbl, a.attname AS col, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`,
  );
  const idx = await q.query<{ name: string; tbl: string; def: string }>(
    `SELECT indexname AS name, tablename AS tbl, indexdef AS def FROM pg_indexes WHERE schemaname = 'public'`,
  );
  const fns = await q.query<{ name: string }>(
    `SELECT DISTINCT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'`,
  );
  const tables = new Set(rels.rows.filter((r) => r.kind === 'r' || r.kind === 'p').map((r) => r.name));
  const views = new Set(rels.rows.filter((r) => r.kind === 'v' || r.kind === 'm').map((r) => r.name));
  const columns = new Map<string, Map<string, ColumnInfo>>();
  for (const r of cols.rows) {
    let table = columns.get(r.tbl);
    if (!table) columns.set(r.tbl, (table = new Map()));
    table.set(r.col, { type: r.type, nullable: !r.notnull });
  }
  const indexes = new Map(
    idx.rows.map(
      (r) =>
        [r.name, { name: r.name, table: r.tbl, unique: /^CREATE UNIQUE /i.test(r.def), definition: r.def }] as const,
    ),
  );
  return {
    tables,
    views,
    columns,
    indexes,
    functions: new Set(fns.rows.map((r) => r.name)),
    has: (table, column) => tables.has(table) && (column === undefined || (columns.get(table)?.has(column) ?? false)),
    column: (table, column) => columns.get(table)?.get(column),
  };
}

export interface TriggerInfo {
  table: string;
  name: string;
  functionName: string;
  /** pg_get_triggerdef(): timing, events, level. */
  definition: string;
  /** The function body mentions mensajes_no_leidos: the CRM counts unread itself. */
  countsUnread: boolean;
}

/** User (non-internal) triggers on the given tables, with the function each one runs. */
export async function loadTriggers(q: Queryable, tables: readonly string[]): Promise<TriggerInfo[]> {
  if (tables.length === 0) return [];
  const list = tables.map((t) => quoteLiteral(t)).join(', ');
  const res = await q.query<{ tbl: string; name: string; fn: string; src: string | null; def: string }>(
    `SELECT c.relname AS tbl, t.tgname AS name, p.proname AS fn, p.prosrc AS src, pg_get_triggerdef(t.oid) AS def
       FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_proc p ON p.oid = t.tgfoid
      WHERE NOT t.tgisinternal AND n.nspname = 'public' AND c.relname IN (${list})
      ORDER BY c.relname, t.tgname`,
  );
  return res.rows.map((r) => ({
    table: r.tbl,
    name: r.name,
    functionName: r.fn,
    definition: r.def,
    countsUnread: (r.src ?? '').includes('mensajes_no_leidos'),
  }));
}

export interface ColumnRef {
  table: string;
  column: string;
}

/** Single-column foreign keys in `public` that reference `table`.`keyColumn`. */
export async function referencingForeignKeys(q: Queryable, table: string, keyColumn = 'id'): Promise<ColumnRef[]> {
  const res = await q.query<{ tbl: string; col: string }>(
    `SELECT src.relname AS tbl, a.attname AS col
       FROM pg_constraint k
       JOIN pg_class src ON src.oid = k.conrelid
       JOIN pg_namespace sn ON sn.oid = src.relnamespace
       JOIN pg_class dst ON dst.oid = k.confrelid
       JOIN pg_namespace dn ON dn.oid = dst.relnamespace
       JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
       JOIN pg_attribute da ON da.attrelid = k.confrelid AND da.attnum = k.confkey[1]
      WHERE k.contype = 'f' AND array_length(k.conkey, 1) = 1
        AND sn.nspname = 'public' AND dn.nspname = 'public' AND dst.relname = $1 AND da.attname = $2
      ORDER BY 1, 2`,
    [table, keyColumn],
  );
  return res.rows.map((r) => ({ table: r.tbl, column: r.col }));
}

/** What a single-column foreign key on table.column references, as "table(column)", or null. */
export async function foreignKeyTarget(q: Queryable, table: string, column: string): Promise<string | null> {
  const res = await q.query<{ target: string }>(
    `SELECT dst.relname || '(' || da.attname || ')' AS target
       FROM pg_constraint k
       JOIN pg_class src ON src.oid = k.conrelid
       JOIN pg_namespace sn ON sn.oid = src.relnamespace
       JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
       JOIN pg_class dst ON dst.oid = k.confrelid
       JOIN pg_attribute da ON da.attrelid = k.confrelid AND da.attnum = k.confkey[1]
      WHERE k.contype = 'f' AND array_length(k.conkey, 1) = 1 AND sn.nspname = 'public'
        AND src.relname = $1 AND a.attname = $2
      LIMIT 1`,
    [table, column],
  );
  return res.rows[0]?.target ?? null;
}

export interface UniqueWamidIndex {
  name: string;
  definition: string;
  partial: boolean;
  valid: boolean;
}

/** Unique indexes whose only key is mensajes.whatsapp_message_id. */
export async function uniqueWamidIndexes(q: Queryable): Promise<UniqueWamidIndex[]> {
  const res = await q.query<UniqueWamidIndex>(
    `SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition, x.indpred IS NOT NULL AS partial, x.indisvalid AS valid
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
      WHERE n.nspname = 'public' AND t.relname = 'mensajes' AND x.indisunique AND x.indnkeyatts = 1
        AND x.indexprs IS NULL AND a.attname = 'whatsapp_message_id'
      ORDER BY 1`,
  );
  return res.rows;
}

/** Migration files recorded as applied, or null when router_migraciones does not exist yet. */
export async function appliedMigrations(q: Queryable, schema: Schema): Promise<Set<string> | null> {
  if (!schema.has('router_migraciones', 'nombre')) return null;
  const res = await q.query<{ nombre: string }>('SELECT nombre FROM router_migraciones');
  return new Set(res.rows.map((r) => r.nombre));
}

/** Identifiers come from the catalogs, still quoted so odd names cannot break a statement. */
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const quoteLiteral = (value: string): string => `'${value.replaceAll("'", "''")}'`;
