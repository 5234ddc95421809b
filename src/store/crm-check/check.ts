import type { Db, Queryable } from '../db.js';
import { MIGRATIONS_DIR } from '../migrate.js';
import { blockersFrom, type Blocker } from './blocking-checks.js';
import {
  duplicateContacts,
  duplicateConversations,
  duplicateWamids,
  emptyWamidCount,
  phoneKeySource,
  type DuplicateGroup,
} from './duplicates.js';
import { compareColumns, type ColumnFinding } from './expected-columns.js';
import {
  appliedMigrations,
  foreignKeyTarget,
  loadSchema,
  loadTriggers,
  type Schema,
  type TriggerInfo,
} from './introspect.js';
import { migrationFiles, readMigrationObjects, type MigrationObject } from './migration-objects.js';
import type { PhoneKeySource } from './phone-key.js';
import { wamidIndexState, type WamidIndexState } from './wamid-index.js';

/** Tables whose triggers the router must coexist with (it writes all four). */
export const WATCHED_TRIGGER_TABLES = ['contactos', 'conversaciones', 'mensajes', 'mensaje_reacciones'] as const;
/** CRM functions and views the screens rely on (CRM-CONTRACT §13). */
export const CRM_FUNCTIONS = ['marcar_como_leidos', 'update_updated_at'] as const;
export const CRM_VIEWS = ['vw_mensajes_completos'] as const;

const SAMPLE_GROUPS = 5;

export interface GroupSummary {
  groups: number;
  rows: number;
  /** Rows a merge would fold into another (rows − groups). */
  extra: number;
  samples: DuplicateGroup[];
}

export interface CheckReport {
  engine: Db['engine'];
  migrations: { files: string[]; tableExists: boolean; pending: string[] };
  additions: {
    tables: Extract<MigrationObject, { kind: 'table' }>[];
    columns: Extract<MigrationObject, { kind: 'column' }>[];
    indexes: Extract<MigrationObject, { kind: 'index' }>[];
    /** Declared by a CREATE TABLE IF NOT EXISTS whose table already exists, and added by no ALTER. */
    notAdded: Extract<MigrationObject, { kind: 'column' }>[];
  };
  phoneKey: PhoneKeySource;
  duplicates: {
    wamids: GroupSummary | null;
    emptyWamids: number | null;
    conversations: GroupSummary | null;
    contacts: GroupSummary | null;
  };
  triggers: TriggerInfo[];
  functions: { name: string; present: boolean }[];
  views: { name: string; present: boolean }[];
  columns: ColumnFinding[];
  derivacionesTicket: { type: string; references: string | null } | null;
  wamidIndex: WamidIndexState;
  blockers: Blocker[];
}

function summarize(groups: DuplicateGroup[] | null): GroupSummary | null {
  if (!groups) return null;
  const rows = groups.reduce((n, g) => n + g.ids.length, 0);
  return { groups: groups.length, rows, extra: rows - groups.length, samples: groups.slice(0, SAMPLE_GROUPS) };
}

/** What `objects` would add to the database `schema` describes (also logged by the migrator as it applies them). */
export function additions(objects: MigrationObject[], schema: Schema): CheckReport['additions'] {
  const out: CheckReport['additions'] = { tables: [], columns: [], indexes: [], notAdded: [] };
  const seen = new Set<string>();
  const addedByAlter = new Set<string>();
  for (const o of objects) if (o.kind === 'column' && !o.viaCreateTable) addedByAlter.add(`${o.table}.${o.column}`);
  for (const o of objects) {
    // A CREATE TABLE IF NOT EXISTS on an existing table adds nothing: its columns arrive only through
    // an ALTER … ADD COLUMN, which is then the one reported.
    if (o.kind === 'column' && o.viaCreateTable && addedByAlter.has(`${o.table}.${o.column}`)) continue;
    const id = o.kind === 'index' ? `i:${o.name}` : o.kind === 'table' ? `t:${o.table}` : `c:${o.table}.${o.column}`;
    if (seen.has(id)) continue;
    seen.add(id);
    if (o.kind === 'table' && !schema.has(o.table)) out.tables.push(o);
    else if (o.kind === 'index' && !schema.indexes.has(o.name)) out.indexes.push(o);
    // A column of a table the migrations create comes with it (the table is listed instead).
    else if (o.kind === 'column' && schema.has(o.table) && !schema.has(o.table, o.column))
      (o.viaCreateTable ? out.notAdded : out.columns).push(o);
  }
  return out;
}

/** Everything `migrate --check` reports, gathered in one READ ONLY transaction. */
export async function runCheck(db: Db, options: { migrationsDir?: URL } = {}): Promise<CheckReport> {
  const dir = options.migrationsDir ?? MIGRATIONS_DIR;
  const files = await migrationFiles(dir);
  const objects = await readMigrationObjects(dir);
  return db.transaction(async (tx) => {
    // The guarantee that --check changes nothing is the server's, not this code's discipline.
    await tx.query('SET TRANSACTION READ ONLY');
    return gather(tx, db.engine, files, objects);
  });
}

async function gather(
  tx: Queryable,
  engine: Db['engine'],
  files: string[],
  objects: MigrationObject[],
): Promise<CheckReport> {
  const schema = await loadSchema(tx);
  const applied = await appliedMigrations(tx, schema);
  const wamids = await duplicateWamids(tx, schema);
  const columns = compareColumns(schema);
  const wamidIndex = await wamidIndexState(tx, schema, wamids);
  const ticket = schema.column('derivaciones', 'ticket_id');
  return {
    engine,
    migrations: { files, tableExists: applied !== null, pending: files.filter((f) => !applied?.has(f)) },
    additions: additions(objects, schema),
    phoneKey: phoneKeySource(schema),
    duplicates: {
      wamids: summarize(wamids),
      emptyWamids: await emptyWamidCount(tx, schema),
      conversations: summarize(await duplicateConversations(tx, schema)),
      contacts: summarize(await duplicateContacts(tx, schema)),
    },
    triggers: await loadTriggers(
      tx,
      WATCHED_TRIGGER_TABLES.filter((t) => schema.has(t)),
    ),
    functions: CRM_FUNCTIONS.map((name) => ({ name, present: schema.functions.has(name) })),
    views: CRM_VIEWS.map((name) => ({ name, present: schema.views.has(name) })),
    columns,
    derivacionesTicket: ticket
      ? { type: ticket.type, references: await foreignKeyTarget(tx, 'derivaciones', 'ticket_id') }
      : null,
    wamidIndex,
    blockers: blockersFrom(columns, wamidIndex),
  };
}
