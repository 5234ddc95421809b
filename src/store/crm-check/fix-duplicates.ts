import type { Logger } from 'pino';
import { AppError } from '../../errors.js';
import type { Db, Queryable } from '../db.js';
import { MIGRATION_LOCK_KEY } from '../migrate.js';
import {
  duplicateContacts,
  duplicateConversations,
  duplicateWamids,
  phoneKeySource,
  type DuplicateGroup,
} from './duplicates.js';
import { loadSchema, type Schema } from './introspect.js';
import { phoneKeySql } from './phone-key.js';
import { deleteByKey, findReferences, repoint, type Reference } from './repoint.js';
import { WAMID_INDEX_DDL, WAMID_INDEX_NAME, wamidIndexState } from './wamid-index.js';

/**
 * `npm run migrate -- --fix`: merges the CRM's duplicate contacts, then conversations, then wamids,
 * each kind in one transaction under the migrator's advisory lock, and then creates the unique wamid
 * index. No mensajes row is ever deleted (each transaction counts them and rolls back if the count
 * moved); every merged row is kept whole in router_fusiones with the ids it re-pointed.
 */
export interface KindResult {
  groups: number;
  merged: number;
  /** "table.column" → rows re-pointed to survivors. */
  repointed: Record<string, number>;
  /** "table.column" → rows left behind because the survivor had their twin under a unique key. */
  skipped: Record<string, number>;
}

export interface FixReport {
  contacts: KindResult;
  conversations: KindResult;
  wamids: KindResult;
  wamidIndex: 'created' | 'existed' | { coveredBy: string };
  mensajes: number;
}

interface Merge {
  survivorId: string;
  loserId: string;
  fila: Record<string, unknown>;
  repunteos: Record<string, unknown>;
}

type Kind = 'contacto' | 'conversacion' | 'wamid';

export async function fixDuplicates(db: Db, log: Logger): Promise<FixReport> {
  return db.withAdvisoryLock(MIGRATION_LOCK_KEY, async (conn) => {
    const schema = await loadSchema(conn);
    if (!schema.has('router_fusiones')) {
      throw new AppError(
        'CRM_FIX_NOT_READY',
        'router_fusiones does not exist: apply the migrations first (npm run migrate)',
      );
    }
    const contacts = await inMergeTransaction(conn, () => mergeContacts(conn, schema));
    log.info({ kind: 'contacto', ...contacts }, 'duplicate contacts merged');
    const conversations = await inMergeTransaction(conn, () => mergeConversations(conn, schema));
    log.info({ kind: 'conversacion', ...conversations }, 'duplicate conversations merged');
    const { result: wamids, index } = await inMergeTransaction(conn, () => mergeWamids(conn, schema));
    log.info({ kind: 'wamid', ...wamids, index }, 'duplicate wamids merged');
    return { contacts, conversations, wamids, wamidIndex: index, mensajes: await countMensajes(conn) };
  });
}

async function countMensajes(q: Queryable): Promise<number> {
  const res = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM mensajes');
  return res.rows[0]?.n ?? 0;
}

/** BEGIN … COMMIT on the locked connection, refusing to commit if the number of messages moved. */
async function inMergeTransaction<T>(conn: Queryable, fn: () => Promise<T>): Promise<T> {
  await conn.query('BEGIN');
  try {
    const before = await countMensajes(conn);
    const result = await fn();
    const after = await countMensajes(conn);
    if (after !== before) {
      throw new AppError(
        'CRM_FIX_FAILED',
        `merge would change the number of mensajes rows (${before} → ${after}); rolled back`,
        {
          details: { before, after },
        },
      );
    }
    await conn.query('COMMIT');
    return result;
  } catch (err) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

const emptyResult = (): KindResult => ({ groups: 0, merged: 0, repointed: {}, skipped: {} });

async function rowOf(q: Queryable, table: string, id: string): Promise<Record<string, unknown>> {
  const res = await q.query<{ fila: Record<string, unknown> }>(
    `SELECT to_jsonb(x) AS fila FROM ${table} x WHERE x.id = $1`,
    [id],
  );
  const fila = res.rows[0]?.fila;
  if (!fila) throw new AppError('CRM_FIX_FAILED', `${table} row ${id} vanished during the merge`);
  return fila;
}

/**
 * Re-points every reference from loser to survivor and tallies it. `dropRefused`: the loser row
 * is about to be deleted, so a refused twin (a label the survivor already has) goes with it — it is
 * recorded whole first; mensajes rows are never dropped.
 */
async function repointAll(
  q: Queryable,
  schema: Schema,
  refs: Reference[],
  loserId: string,
  survivorId: string,
  result: KindResult,
  dropRefused: boolean,
) {
  const repunteos: Record<string, unknown> = {};
  for (const ref of refs) {
    const name = `${ref.table}.${ref.column}`;
    const r = await repoint(q, schema, ref, loserId, survivorId);
    if (r.moved.length) {
      repunteos[name] = r.moved;
      result.repointed[name] = (result.repointed[name] ?? 0) + r.moved.length;
    }
    if (r.skipped.length) {
      repunteos[`${name}:omitidas`] = r.skipped.map((s) => s.row);
      result.skipped[name] = (result.skipped[name] ?? 0) + r.skipped.length;
      if (dropRefused) {
        if (ref.table === 'mensajes')
          throw new AppError('CRM_FIX_FAILED', `a mensajes row cannot be re-pointed (${name}); nothing merged`);
        for (const s of r.skipped) await deleteByKey(q, schema, ref.table, s.key);
      }
    }
  }
  return repunteos;
}

async function record(q: Queryable, tipo: Kind, merges: Merge[]): Promise<void> {
  for (const m of merges) {
    await q.query(
      `INSERT INTO router_fusiones (tipo, superviviente_id, fusionado_id, fila, repunteos) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)`,
      [tipo, m.survivorId, m.loserId, JSON.stringify(m.fila), JSON.stringify(m.repunteos)],
    );
  }
}

/** Survivor's columns before the merge touched them, for undoing by hand. */
function changed(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  columns: string[],
): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  for (const c of columns)
    if (JSON.stringify(before[c] ?? null) !== JSON.stringify(after[c] ?? null)) out[c] = before[c] ?? null;
  return Object.keys(out).length ? out : null;
}

async function mergeContacts(q: Queryable, schema: Schema): Promise<KindResult> {
  const result = emptyResult();
  const groups = (await duplicateContacts(q, schema)) ?? [];
  if (!groups.length) return result;
  const refs = await findReferences(q, schema, 'contactos', 'contacto_id', [
    { table: 'conversaciones', column: 'contacto_id' },
    { table: 'tickets', column: 'contacto_id' },
    { table: 'contacto_etiquetas', column: 'contacto_id' },
  ]);
  const fillable = ['nombre', 'email'].filter((c) => schema.has('contactos', c));
  const key = phoneKeySql('telefono', phoneKeySource(schema));
  for (const group of groups) {
    const [survivorId, ...losers] = group.ids as [string, ...string[]];
    const before = await rowOf(q, 'contactos', survivorId);
    const merges: Merge[] = [];
    for (const loserId of losers) {
      const fila = await rowOf(q, 'contactos', loserId);
      const repunteos = await repointAll(q, schema, refs, loserId, survivorId, result, true);
      if (fillable.length) {
        await q.query(
          `UPDATE contactos s SET ${fillable.map((c) => `${c} = COALESCE(s.${c}, l.${c})`).join(', ')} FROM contactos l WHERE s.id = $1 AND l.id = $2`,
          [survivorId, loserId],
        );
      }
      await q.query('DELETE FROM contactos WHERE id = $1', [loserId]);
      merges.push({ survivorId, loserId, fila, repunteos });
    }
    // The canonical spelling, once the losers (which may hold it) are gone; never over another contact.
    const canonical = (
      await q.query<{ telefono: string | null }>(`SELECT '+' || ${key} AS telefono FROM contactos WHERE id = $1`, [
        survivorId,
      ])
    ).rows[0]?.telefono;
    if (canonical && canonical !== before.telefono) {
      await q.query(
        `UPDATE contactos SET telefono = $2 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM contactos o WHERE o.telefono = $2)`,
        [survivorId, canonical],
      );
    }
    const survivorBefore = changed(before, await rowOf(q, 'contactos', survivorId), ['telefono', ...fillable]);
    if (survivorBefore) for (const m of merges) m.repunteos.superviviente_antes = survivorBefore;
    await record(q, 'contacto', merges);
    result.groups += 1;
    result.merged += merges.length;
  }
  return result;
}

async function mergeConversations(q: Queryable, schema: Schema): Promise<KindResult> {
  const result = emptyResult();
  const groups = (await duplicateConversations(q, schema)) ?? [];
  if (!groups.length) return result;
  const refs = await findReferences(q, schema, 'conversaciones', 'conversacion_id', [
    { table: 'audit_log', column: 'registro_id' },
  ]);
  const unread = schema.has('conversaciones', 'mensajes_no_leidos');
  for (const group of groups) {
    const [survivorId, ...losers] = group.ids as [string, ...string[]];
    const before = await rowOf(q, 'conversaciones', survivorId);
    const merges: Merge[] = [];
    for (const loserId of losers) {
      const fila = await rowOf(q, 'conversaciones', loserId);
      const repunteos = await repointAll(q, schema, refs, loserId, survivorId, result, true);
      // The survivor keeps its state; only the unread count adds up (the CRM's badge).
      if (unread) {
        await q.query(
          `UPDATE conversaciones s SET mensajes_no_leidos = COALESCE(s.mensajes_no_leidos, 0) + COALESCE(l.mensajes_no_leidos, 0)
             FROM conversaciones l WHERE s.id = $1 AND l.id = $2`,
          [survivorId, loserId],
        );
      }
      await q.query('DELETE FROM conversaciones WHERE id = $1', [loserId]);
      merges.push({ survivorId, loserId, fila, repunteos });
    }
    const survivorBefore = unread
      ? changed(before, await rowOf(q, 'conversaciones', survivorId), ['mensajes_no_leidos'])
      : null;
    if (survivorBefore) for (const m of merges) m.repunteos.superviviente_antes = survivorBefore;
    await record(q, 'conversacion', merges);
    result.groups += 1;
    result.merged += merges.length;
  }
  return result;
}

async function mergeWamids(
  q: Queryable,
  schema: Schema,
): Promise<{ result: KindResult; index: FixReport['wamidIndex'] }> {
  const result = emptyResult();
  const groups: DuplicateGroup[] = (await duplicateWamids(q, schema)) ?? [];
  if (groups.length) {
    const refs = await findReferences(q, schema, 'mensajes', 'mensaje_id', [
      { table: 'mensajes', column: 'mensaje_citado_id' },
    ]);
    const hasMetadata = schema.has('mensajes', 'metadata');
    for (const group of groups) {
      const [survivorId, ...copies] = group.ids as [string, ...string[]];
      const merges: Merge[] = [];
      for (const copyId of copies) {
        const fila = await rowOf(q, 'mensajes', copyId);
        // The copy stays (a message is never deleted); what it loses is the wamid, kept in metadata.
        const repunteos = await repointAll(q, schema, refs, copyId, survivorId, result, false);
        await q.query(
          `UPDATE mensajes SET whatsapp_message_id = NULL${
            hasMetadata
              ? `, metadata = COALESCE(metadata::jsonb, '{}'::jsonb) || jsonb_build_object('router_wamid_duplicado', $2::text)`
              : ''
          } WHERE id = $1`,
          hasMetadata ? [copyId, fila.whatsapp_message_id] : [copyId],
        );
        merges.push({ survivorId, loserId: copyId, fila, repunteos });
      }
      await record(q, 'wamid', merges);
      result.groups += 1;
      result.merged += merges.length;
    }
  }
  const state = await wamidIndexState(q, schema, []);
  if (!state.applicable) return { result, index: 'existed' };
  if (state.covering)
    return { result, index: state.covering.name === WAMID_INDEX_NAME ? 'existed' : { coveredBy: state.covering.name } };
  await q.query(WAMID_INDEX_DDL);
  return { result, index: 'created' };
}
