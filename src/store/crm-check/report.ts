import type { CheckReport, GroupSummary } from './check.js';
import type { FixReport, KindResult } from './fix-duplicates.js';
import { WAMID_INDEX_DDL, WAMID_INDEX_NAME } from './wamid-index.js';

/**
 * Human-readable text for `migrate --check` / `--fix` (stdout; the JSON logs go to stderr). Ids
 * only — never phones, names, message text or wamids (which embed the phone).
 */
const list = (items: string[], max = 12): string =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} … (+${items.length - max} more)`;

function groups(
  title: string,
  s: GroupSummary | null,
  blocking: boolean,
  what: (ids: string[], label: string | null) => string,
): string[] {
  if (!s) return [`  - ${title}: not checked (table or column missing)`];
  if (s.groups === 0) return [`  ok ${title}: none`];
  const mark = blocking ? 'BLOCKS' : 'WARN';
  return [
    `  ${mark} ${title}: ${s.groups} group(s), ${s.rows} rows, ${s.extra} to merge`,
    ...s.samples.map((g) => `      ${what(g.ids, g.label)}`),
    ...(s.groups > s.samples.length ? [`      … ${s.groups - s.samples.length} more group(s)`] : []),
  ];
}

export function renderCheck(r: CheckReport): string {
  const out: string[] = [];
  out.push(`psi-router migrate --check (${r.engine}; read only, nothing was changed)`, '');

  out.push('Migrations');
  if (!r.migrations.tableExists)
    out.push(`  router_migraciones does not exist: all ${r.migrations.files.length} file(s) pending`);
  else out.push(`  pending file(s): ${r.migrations.pending.length ? list(r.migrations.pending) : 'none'}`);
  const a = r.additions;
  out.push(
    `  would create table(s): ${a.tables.length ? list(a.tables.map((t) => `${t.table} (${t.file})`)) : 'none'}`,
  );
  out.push(
    `  would add column(s): ${a.columns.length ? list(a.columns.map((c) => `${c.table}.${c.column} (${c.file})`)) : 'none'}`,
  );
  out.push(
    `  would create index(es): ${a.indexes.length ? list(a.indexes.map((i) => `${i.name}${i.unique ? ' unique' : ''} on ${i.table} (${i.file})`)) : 'none'}`,
  );
  if (a.notAdded.length) {
    out.push(
      `  WARNING existing table(s) lack column(s) their CREATE TABLE IF NOT EXISTS declares, and no ALTER TABLE … ADD COLUMN adds them:`,
      `      ${list(
        a.notAdded.map((c) => `${c.table}.${c.column} (${c.file})`),
        40,
      )}`,
    );
  }
  out.push('');

  const d = r.duplicates;
  out.push(
    `Duplicates (phone key: ${r.phoneKey === 'function' ? 'router_telefono_clave()' : 'inline expression; router_telefono_clave() not created yet'})`,
  );
  out.push(
    ...groups(
      'duplicate wamids in mensajes',
      d.wamids,
      !r.wamidIndex.creatable,
      (ids, conv) => `conversation ${conv}: mensajes ${ids.join(', ')} (keeps ${ids[0]})`,
    ),
  );
  out.push(
    d.emptyWamids === null
      ? '  - empty wamids: not checked'
      : `  info empty-string wamids: ${d.emptyWamids} row(s) (left alone; the unique index skips them)`,
  );
  out.push(
    ...groups(
      'duplicate conversations (same person, same line)',
      d.conversations,
      false,
      (ids, line) => `line ${line}: conversaciones ${ids.join(', ')} (keeps ${ids[0]})`,
    ),
  );
  out.push(
    ...groups(
      'duplicate contacts (phone spellings of one WhatsApp number)',
      d.contacts,
      false,
      (ids) => `contactos ${ids.join(', ')} (keeps ${ids[0]})`,
    ),
  );
  out.push('');

  out.push('CRM triggers, functions and views');
  if (!r.triggers.length) out.push('  no triggers on contactos, conversaciones, mensajes, mensaje_reacciones');
  for (const t of r.triggers) {
    const timing = /\b(BEFORE|AFTER|INSTEAD OF)\s+(.+?)\s+ON\b/i.exec(t.definition);
    out.push(`  trigger ${t.table}.${t.name} -> ${t.functionName}()${timing ? ` ${timing[1]} ${timing[2]}` : ''}`);
    if (t.countsUnread)
      out.push(
        "      unread counter: the router will not count unread itself (mensajes_no_leidos is the CRM trigger's)",
      );
  }
  for (const f of r.functions) out.push(`  function ${f.name}(): ${f.present ? 'present' : 'absent'}`);
  for (const v of r.views) {
    out.push(
      `  view ${v.name}: ${v.present ? 'present (recreate it for new mensajes columns to reach the chat)' : 'absent'}`,
    );
  }
  out.push('');

  out.push('Columns the router relies on');
  const problems = r.columns.filter((c) => c.problem !== null);
  const missingTables = [...new Set(problems.filter((c) => c.problem === 'missing_table').map((c) => c.table))];
  if (missingTables.length) out.push(`  info missing table(s): ${missingTables.join(', ')}`);
  const missing = problems.filter((c) => c.problem === 'missing').map((c) => `${c.table}.${c.column}`);
  if (missing.length) out.push(`  info missing column(s): ${list(missing, 40)}`);
  for (const c of problems.filter((p) => p.problem === 'type' || p.problem === 'not_null')) {
    out.push(
      `  BLOCKS ${c.table}.${c.column}: ${c.actual}${c.problem === 'not_null' ? ' NOT NULL' : ''}, expected ${c.expected.join(' or ')}${c.problem === 'not_null' ? ' nullable' : ''}`,
    );
  }
  if (!problems.some((p) => p.problem === 'type' || p.problem === 'not_null'))
    out.push('  ok every existing column has the expected type and nullability');
  if (r.derivacionesTicket) {
    out.push(
      `  info derivaciones.ticket_id is ${r.derivacionesTicket.type}, ${r.derivacionesTicket.references ? `REFERENCES ${r.derivacionesTicket.references}` : 'no foreign key'}`,
    );
  }
  out.push('');

  out.push(`Unique wamid index ${WAMID_INDEX_NAME}`);
  const w = r.wamidIndex;
  if (!w.applicable) out.push('  - mensajes.whatsapp_message_id does not exist yet');
  else if (w.covering)
    out.push(
      `  ok ${w.covering.name === WAMID_INDEX_NAME ? 'exists' : `not needed: ${w.covering.name} already makes wamids unique`}`,
    );
  else if (w.creatable)
    out.push(`  missing; can be created now (npm run migrate -- --fix creates it): ${WAMID_INDEX_DDL}`);
  else
    out.push(
      `  BLOCKS missing, and cannot be created: ${w.duplicateGroups} duplicate wamid group(s); run npm run migrate -- --fix`,
    );
  out.push('');

  if (r.blockers.length) {
    out.push(`Result: BLOCKED (${r.blockers.length})`);
    for (const b of r.blockers) out.push(`  ${b.code}: ${b.message}`);
  } else {
    out.push('Result: nothing blocks the router');
  }
  return `${out.join('\n')}\n`;
}

function kind(title: string, k: KindResult): string[] {
  if (k.groups === 0) return [`  ${title}: nothing to merge`];
  const lines = [`  ${title}: ${k.groups} group(s), ${k.merged} row(s) merged`];
  for (const [ref, n] of Object.entries(k.repointed)) lines.push(`      re-pointed ${n} ${ref}`);
  for (const [ref, n] of Object.entries(k.skipped))
    lines.push(`      left ${n} ${ref} (survivor already had it; recorded in router_fusiones)`);
  return lines;
}

export function renderFix(r: FixReport): string {
  const index =
    r.wamidIndex === 'created'
      ? `created ${WAMID_INDEX_NAME}`
      : r.wamidIndex === 'existed'
        ? `${WAMID_INDEX_NAME} already there`
        : `not needed (${r.wamidIndex.coveredBy} already makes wamids unique)`;
  return [
    'psi-router migrate --fix',
    ...kind('contacts', r.contacts),
    ...kind('conversations', r.conversations),
    ...kind('wamids', r.wamids),
    `  unique wamid index: ${index}`,
    `  mensajes rows: ${r.mensajes} (none deleted; every merge is in router_fusiones)`,
    '',
  ].join('\n');
}
