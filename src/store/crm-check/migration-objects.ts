import { readdir, readFile } from 'node:fs/promises';

/**
 * What the migration files would create, read from their SQL with tolerant patterns (not a parser):
 * `CREATE TABLE IF NOT EXISTS t (…)`, `ALTER TABLE t ADD COLUMN IF NOT EXISTS c`,
 * `CREATE [UNIQUE] INDEX IF NOT EXISTS i ON t`. Compared with the live catalogs by the check, so an
 * operator sees what `npm run migrate` would add to the CRM's database before running it.
 */
export type MigrationObject =
  | { kind: 'table'; table: string; file: string }
  /** `viaCreateTable`: declared inside a CREATE TABLE IF NOT EXISTS (added only if the table is new). */
  | { kind: 'column'; table: string; column: string; file: string; viaCreateTable: boolean }
  | { kind: 'index'; name: string; table: string; unique: boolean; file: string };

export const MIGRATION_FILE = /^\d{4}-[a-z0-9-]+\.sql$/;

export async function migrationFiles(dir: URL): Promise<string[]> {
  return (await readdir(dir)).filter((f) => MIGRATION_FILE.test(f)).sort();
}

export async function readMigrationObjects(dir: URL): Promise<MigrationObject[]> {
  let objects: MigrationObject[] = [];
  for (const file of await migrationFiles(dir)) {
    const sql = await readFile(new URL(file, dir), 'utf8');
    // An index a later file drops is not expected any more (0130 drops 0100's mensajes_idempotency_key).
    const dropped = droppedIndexes(sql);
    objects = objects.filter((o) => o.kind !== 'index' || !dropped.has(o.name));
    objects.push(...migrationObjects(sql, file));
  }
  return objects;
}

const NAME = String.raw`(?:(?:"?public"?)\.)?("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const CREATE_TABLE = new RegExp(
  String.raw`^CREATE\s+(?:UNLOGGED\s+)?TABLE\s+IF\s+NOT\s+EXISTS\s+${NAME}\s*\(([\s\S]*)\)[^)]*$`,
  'i',
);
const ALTER_TABLE = new RegExp(String.raw`^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?${NAME}\s+([\s\S]*)$`, 'i');
const ADD_COLUMN = new RegExp(String.raw`ADD\s+(?:COLUMN\s+)?IF\s+NOT\s+EXISTS\s+${NAME}`, 'gi');
const CREATE_INDEX = new RegExp(
  String.raw`^CREATE\s+(UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?IF\s+NOT\s+EXISTS\s+${NAME}\s+ON\s+(?:ONLY\s+)?${NAME}`,
  'i',
);
const DROP_INDEX = new RegExp(String.raw`^DROP\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?${NAME}\s*$`, 'i');

/** Names of the indexes a migration file drops. */
export function droppedIndexes(sql: string): Set<string> {
  const names = new Set<string>();
  for (const statement of splitStatements(sql)) {
    const m = DROP_INDEX.exec(statement);
    if (m) names.add(unquote(m[1]!));
  }
  return names;
}

const NOT_A_COLUMN = /^(CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN|EXCLUDE|LIKE)\b/i;

export function migrationObjects(sql: string, file: string): MigrationObject[] {
  const out: MigrationObject[] = [];
  for (const statement of splitStatements(sql)) {
    const table = CREATE_TABLE.exec(statement);
    if (table) {
      const name = unquote(table[1]!);
      out.push({ kind: 'table', table: name, file });
      for (const part of splitTopLevel(table[2]!, ',')) {
        const def = part.trim();
        if (!def || NOT_A_COLUMN.test(def)) continue;
        const column = /^("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)/.exec(def);
        if (column) out.push({ kind: 'column', table: name, column: unquote(column[1]!), file, viaCreateTable: true });
      }
      continue;
    }
    const alter = ALTER_TABLE.exec(statement);
    if (alter) {
      const name = unquote(alter[1]!);
      for (const add of alter[2]!.matchAll(ADD_COLUMN))
        out.push({ kind: 'column', table: name, column: unquote(add[1]!), file, viaCreateTable: false });
      continue;
    }
    const index = CREATE_INDEX.exec(statement);
    if (index)
      out.push({ kind: 'index', name: unquote(index[2]!), table: unquote(index[3]!), unique: Boolean(index[1]), file });
  }
  return out;
}

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name.toLowerCase();
}

/**
 * Splits a script on top-level `;`, dropping comments and keeping quoted text and $tag$ bodies
 * whole, so a function body's semicolons do not cut it.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let i = 0;
  while (i < sql.length) {
    const rest = sql.slice(i);
    if (rest.startsWith('--')) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
      current += ' ';
      continue;
    }
    if (rest.startsWith('/*')) {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
      current += ' ';
      continue;
    }
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      for (;;) {
        const k = sql.indexOf(ch, j);
        if (k === -1) {
          j = sql.length;
          break;
        }
        if (sql[k + 1] === ch) {
          j = k + 2;
          continue;
        }
        j = k + 1;
        break;
      }
      current += sql.slice(i, j);
      i = j;
      continue;
    }
    const dollar = /^\$[A-Za-z_0-9]*\$/.exec(rest);
    if (dollar) {
      const tag = dollar[0];
      const end = sql.indexOf(tag, i + tag.length);
      const j = end === -1 ? sql.length : end + tag.length;
      current += sql.slice(i, j);
      i = j;
      continue;
    }
    if (ch === ';') {
      if (current.trim()) statements.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
    i += 1;
  }
  if (current.trim()) statements.push(current.trim());
  return statements;
}

/** Splits on `sep` outside parentheses and quotes (a CREATE TABLE body into its definitions). */
function splitTopLevel(body: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let current = '';
  for (const ch of body) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth += 1;
    else if (ch === ')') depth -= 1;
    else if (ch === sep && depth === 0) {
      parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(current);
  return parts;
}
