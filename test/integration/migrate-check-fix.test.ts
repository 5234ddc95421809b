import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { blockingChecks } from '../../src/store/crm-check/blocking-checks.js';
import { runCheck } from '../../src/store/crm-check/check.js';
import { fixDuplicates } from '../../src/store/crm-check/fix-duplicates.js';
import { TELEFONO_CLAVE_SQL } from '../../src/store/crm-check/phone-key.js';
import type { Db } from '../../src/store/db.js';
import { MIGRATIONS_DIR, migrate } from '../../src/store/migrate.js';
import { createPgDb } from '../../src/store/pg-db.js';
import { createPgliteDb } from '../../src/store/pglite-db.js';
import { buildCrmDatabase, type CrmFixtureFacts } from '../fixtures/crm/build-crm-db.js';
import { withClient } from '../helpers/reset-db.js';
import { TEST_DATABASE_URL } from '../helpers/test-config.js';

const log = pino({ level: 'silent' });
const ROOT = path.resolve(import.meta.dirname, '../..');

/** Every row of every table in public and auth, plus the indexes: equal before/after = nothing changed. */
async function checksum(): Promise<string> {
  return withClient(async (c) => {
    const tables = (
      await c.query<{ t: string }>(
        `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS t FROM information_schema.tables
        WHERE table_schema IN ('public', 'auth') AND table_type = 'BASE TABLE' ORDER BY 1`,
      )
    ).rows.map((r) => r.t);
    const parts: string[] = [];
    for (const t of tables) {
      const r = await c.query<{ h: string; n: number }>(
        `SELECT md5(COALESCE(string_agg(x::text, '|' ORDER BY x::text), '')) AS h, count(*)::int AS n FROM ${t} x`,
      );
      parts.push(`${t}:${r.rows[0]!.n}:${r.rows[0]!.h}`);
    }
    const idx = (
      await c.query<{ d: string }>(
        `SELECT string_agg(indexdef, ';' ORDER BY indexdef) AS d FROM pg_indexes WHERE schemaname = 'public'`,
      )
    ).rows[0]!.d;
    return `${parts.join('\n')}\n${idx}`;
  });
}

/** What the lead's additive migrations will have done by the time --fix runs: 0105 holds the phone key and router_fusiones. */
async function applyTelefonoClaveMigration(): Promise<void> {
  const sql = await readFile(new URL('0105-router-fusiones.sql', MIGRATIONS_DIR), 'utf8');
  await withClient((c) => c.query(sql));
}

function runCli(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'src/start/migrate.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const rows = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> =>
  withClient(async (c) => (await c.query(sql, params)).rows as T[]);

describe('migrate --check and --fix on the CRM database', () => {
  let db: Db;
  beforeAll(() => {
    db = createPgDb(
      { connectionString: TEST_DATABASE_URL, max: 2, statementTimeoutMs: 30_000, connectTimeoutMs: 5_000 },
      log,
    );
  });
  afterAll(async () => {
    await db.close();
  });

  it('when `migrate --check` runs as a process on the CRM database, then it reports every kind of dirt with ids, exits 2 and changes nothing', async () => {
    const facts = await buildCrmDatabase(TEST_DATABASE_URL);
    const before = await checksum();
    const res = await runCli(['--check'], { DATABASE_URL: TEST_DATABASE_URL });
    expect(res.stderr).not.toContain('"level":"error"');
    expect(res.code).toBe(2);
    const out = res.stdout;
    expect(out).toContain('duplicate wamids in mensajes: 2 group(s), 5 rows, 3 to merge');
    for (const g of facts.duplicateWamids)
      expect(out).toContain(`mensajes ${g.copies.join(', ')} (keeps ${g.survivorId})`);
    expect(out).toContain('empty-string wamids: 3 row(s)');
    expect(out).toContain('duplicate conversations (same person, same line): 2 group(s), 4 rows, 2 to merge');
    for (const g of facts.duplicateConversations)
      expect(out).toContain(`line ${g.linea}: conversaciones ${[g.survivorId, ...g.loserIds].join(', ')}`);
    expect(out).toContain(
      'duplicate contacts (phone spellings of one WhatsApp number): 2 group(s), 4 rows, 2 to merge',
    );
    for (const g of facts.duplicateContacts)
      expect(out).toContain(`contactos ${[g.survivorId, ...g.loserIds].join(', ')}`);
    expect(out).toMatch(
      /trigger mensajes\.trg_mensajes_no_leidos -> incrementar_mensajes_no_leidos\(\) AFTER INSERT\n\s+unread counter: the router will not count unread itself/,
    );
    expect(out).toContain('function marcar_como_leidos(): present');
    expect(out).toContain('view vw_mensajes_completos: present');
    expect(out).toContain('derivaciones.ticket_id is uuid, REFERENCES tickets(id)');
    expect(out).toContain('BLOCKS missing, and cannot be created: 2 duplicate wamid group(s)');
    expect(out).toContain('WAMID_DUPLICATES:');
    expect(out).toContain('would create table(s): router_eventos (0101-router-journal.sql)');
    expect(out).toContain('would add column(s): contactos.wa_user_id (0100-crm-tables.sql)');
    // No phone number reaches the report.
    expect(out).not.toMatch(/\+?54911\d{6,}/);
    expect(await checksum()).toBe(before);
  });

  it('when the check runs, then its report carries counts and the sample ids of every duplicate kind, read only', async () => {
    const facts = await buildCrmDatabase(TEST_DATABASE_URL, { ticketFk: 'ticket_id' });
    const before = await checksum();
    const report = await runCheck(db);
    expect(await checksum()).toBe(before);
    expect(report.migrations.tableExists).toBe(false);
    expect(report.phoneKey).toBe('inline');
    expect(report.duplicates.wamids).toMatchObject({ groups: 2, rows: 5, extra: 3 });
    expect(report.duplicates.wamids!.samples.map((s) => s.ids)).toEqual(facts.duplicateWamids.map((g) => g.copies));
    expect(report.duplicates.emptyWamids).toBe(facts.emptyWamidMessageIds.length);
    expect(report.duplicates.conversations!.samples.map((s) => [s.label, s.ids])).toEqual(
      expect.arrayContaining(facts.duplicateConversations.map((g) => [g.linea, [g.survivorId, ...g.loserIds]])),
    );
    expect(report.duplicates.contacts!.samples.map((s) => s.ids)).toEqual(
      expect.arrayContaining(facts.duplicateContacts.map((g) => [g.survivorId, ...g.loserIds])),
    );
    expect(report.triggers.filter((t) => t.countsUnread).map((t) => `${t.table}.${t.name}`)).toEqual([
      'mensajes.trg_mensajes_no_leidos',
    ]);
    expect(report.derivacionesTicket).toEqual({ type: 'text', references: 'tickets(ticket_id)' });
    // Every column a migration declares on an existing CRM table is added by an ALTER … ADD COLUMN.
    expect(report.additions.notAdded.map((c) => `${c.table}.${c.column}`)).toEqual([]);
    expect(report.blockers.map((b) => b.code)).toEqual(['WAMID_DUPLICATES']);
    expect(await blockingChecks(db)).toEqual(report.blockers);
  });

  it('when usuario_id of mensaje_reacciones is NOT NULL, then blockingChecks names it', async () => {
    await buildCrmDatabase(TEST_DATABASE_URL, { reactionUserIdNotNull: true });
    const codes = (await blockingChecks(db)).map((b) => b.code);
    expect(codes).toContain('REACTION_USER_NOT_NULL');
    expect(codes).toContain('WAMID_DUPLICATES');
  });

  it('when the phone key is computed inline or by router_telefono_clave(), then both agree', async () => {
    await buildCrmDatabase(TEST_DATABASE_URL);
    await applyTelefonoClaveMigration();
    const phones = [
      '+5491155550001',
      '+541155550001',
      '5491155550001',
      '+54 9 11 5555-0001',
      '+54 11 5555-0001',
      '+5493515550005',
      '+543515550005',
      '+34612345678',
      '+59899123456',
      '+54115555000',
      '',
      'abc',
      null,
    ];
    const inline = TELEFONO_CLAVE_SQL.replaceAll('{t}', 't');
    const res = await rows<{ t: string | null; f: string | null; i: string | null }>(
      `SELECT t, router_telefono_clave(t) AS f, ${inline} AS i FROM unnest($1::text[]) AS t`,
      [phones],
    );
    for (const r of res) expect(r.i, String(r.t)).toBe(r.f);
    const byPhone = Object.fromEntries(res.map((r) => [r.t, r.f]));
    expect(byPhone['+541155550001']).toBe('5491155550001');
    expect(byPhone['+54 11 5555-0001']).toBe('5491155550001');
    expect(byPhone['+543515550005']).toBe('5493515550005');
    expect(byPhone['+34612345678']).toBe('34612345678');
    expect(byPhone['+54115555000']).toBe('54115555000'); // 11 digits: not the 54 + 10 shape, left alone
  });

  describe('--fix', () => {
    let facts: CrmFixtureFacts;
    let firstFix: Awaited<ReturnType<typeof fixDuplicates>>;
    beforeAll(async () => {
      facts = await buildCrmDatabase(TEST_DATABASE_URL);
      await applyTelefonoClaveMigration();
      firstFix = await fixDuplicates(db, log);
    });

    it('then no mensajes row is deleted and every merge is recorded in router_fusiones', async () => {
      expect(firstFix.mensajes).toBe(facts.messageCount);
      expect((await rows<{ n: number }>('SELECT count(*)::int AS n FROM mensajes'))[0]!.n).toBe(facts.messageCount);
      expect(firstFix.contacts).toMatchObject({ groups: 2, merged: 2 });
      expect(firstFix.conversations).toMatchObject({ groups: 2, merged: 2 });
      expect(firstFix.wamids).toMatchObject({ groups: 2, merged: 3 });
      const fusiones = await rows<{
        tipo: string;
        superviviente_id: string;
        fusionado_id: string;
        fila: Record<string, unknown>;
        repunteos: Record<string, unknown>;
      }>('SELECT tipo, superviviente_id, fusionado_id, fila, repunteos FROM router_fusiones ORDER BY id');
      const pairs = (tipo: string) =>
        fusiones.filter((f) => f.tipo === tipo).map((f) => [f.superviviente_id, f.fusionado_id]);
      expect(pairs('contacto')).toEqual(
        facts.duplicateContacts
          .flatMap((g) => g.loserIds.map((l) => [g.survivorId, l]))
          .sort((a, b) => a[0]!.localeCompare(b[0]!)),
      );
      expect(pairs('conversacion').sort()).toEqual(
        facts.duplicateConversations.flatMap((g) => g.loserIds.map((l) => [g.survivorId, l])).sort(),
      );
      expect(pairs('wamid')).toEqual(
        facts.duplicateWamids.flatMap((g) => g.copies.slice(1).map((c) => [g.survivorId, c])),
      );
      const lucia = fusiones.find((f) => f.fusionado_id === facts.ids.contactoLucia9)!;
      expect(lucia.fila).toMatchObject({
        id: facts.ids.contactoLucia9,
        telefono: '+5491155550001',
        nombre: 'Lucía Gómez',
      });
      expect(lucia.repunteos['conversaciones.contacto_id']).toEqual([facts.ids.convLucia9]);
      expect(lucia.repunteos['contacto_etiquetas.contacto_id:omitidas']).toEqual([
        expect.objectContaining({ id: facts.ids.etiquetaLucia9Interesado, etiqueta_id: facts.ids.etiquetaInteresado }),
      ]);
      expect(lucia.repunteos.superviviente_antes).toEqual({ telefono: '+541155550001', nombre: null });
    });

    it("then duplicate contacts are one row, with the canonical phone, the loser's name and every label", async () => {
      const contact = (
        await rows('SELECT telefono, nombre, email FROM contactos WHERE id = $1', [facts.ids.contactoLuciaSin9])
      )[0];
      expect(contact).toEqual({ telefono: '+5491155550001', nombre: 'Lucía Gómez', email: 'lucia.gomez@example.com' });
      expect(
        await rows('SELECT id FROM contactos WHERE id = ANY($1)', [
          [facts.ids.contactoLucia9, facts.ids.contactoSofiaCrm],
        ]),
      ).toEqual([]);
      const labels = await rows<{ etiqueta_id: string }>(
        'SELECT etiqueta_id FROM contacto_etiquetas WHERE contacto_id = $1 ORDER BY etiqueta_id',
        [facts.ids.contactoLuciaSin9],
      );
      expect(labels.map((l) => l.etiqueta_id)).toEqual([facts.ids.etiquetaInteresado, facts.ids.etiquetaAlumno].sort());
      // Sofía: her "Nuevo chat" conversation moves to the surviving contact and stays (another line).
      const sofia = await rows<{ id: string; contacto_id: string }>(
        'SELECT id, contacto_id FROM conversaciones WHERE id = ANY($1) ORDER BY id',
        [facts.sameContactOtherLine],
      );
      expect(sofia.map((c) => c.contacto_id)).toEqual([facts.ids.contactoSofia, facts.ids.contactoSofia]);
      expect((await rows('SELECT telefono FROM contactos WHERE id = $1', [facts.ids.contactoSofia]))[0]).toEqual({
        telefono: '+5491144440003',
      });
    });

    it('then duplicate conversations are one row holding every message, ticket, derivación and reference, unread added up', async () => {
      const survivor = facts.ids.convMartinNueva;
      const loser = facts.ids.convMartinVieja;
      expect(await rows('SELECT id FROM conversaciones WHERE id = ANY($1)', [[loser, facts.ids.convLucia9]])).toEqual(
        [],
      );
      const counts = (
        await rows<Record<string, number>>(
          `SELECT (SELECT count(*) FROM mensajes WHERE conversacion_id = $1)::int AS m,
                (SELECT count(*) FROM tickets WHERE conversacion_id = $1)::int AS t,
                (SELECT count(*) FROM derivaciones WHERE conversacion_id = $1)::int AS d,
                (SELECT count(*) FROM menu_interacciones WHERE conversacion_id = $1)::int AS mi,
                (SELECT count(*) FROM menu_sesiones WHERE conversacion_id = $1)::int AS ms,
                (SELECT count(*) FROM audit_log WHERE registro_id = $1::text)::int AS a`,
          [survivor],
        )
      )[0];
      expect(counts).toEqual({ m: 7, t: 2, d: 2, mi: 1, ms: 1, a: 2 });
      const conv = (
        await rows('SELECT estado, area, mensajes_no_leidos FROM conversaciones WHERE id = $1', [survivor])
      )[0];
      expect(conv).toEqual({
        estado: 'activa',
        area: 'comunidad',
        mensajes_no_leidos: facts.unread[survivor]! + facts.unread[loser]!,
      });
      const lucia = (
        await rows('SELECT contacto_id, mensajes_no_leidos FROM conversaciones WHERE id = $1', [
          facts.ids.convLuciaSin9,
        ])
      )[0];
      expect(lucia).toEqual({
        contacto_id: facts.ids.contactoLuciaSin9,
        mensajes_no_leidos: facts.unread[facts.ids.convLuciaSin9]! + facts.unread[facts.ids.convLucia9]!,
      });
    });

    it('then duplicate wamid copies stay, without the wamid, and their reactions and quotes point at the earliest copy', async () => {
      const copies = await rows<{ id: string; whatsapp_message_id: string | null; dup: string | null }>(
        `SELECT id, whatsapp_message_id, metadata->>'router_wamid_duplicado' AS dup FROM mensajes WHERE id = ANY($1) ORDER BY id`,
        [facts.duplicateWamids.flatMap((g) => g.copies)],
      );
      expect(copies).toHaveLength(5);
      for (const g of facts.duplicateWamids) {
        const survivor = copies.find((c) => c.id === g.survivorId)!;
        expect(survivor.whatsapp_message_id).toMatch(/^wamid\./);
        expect(survivor.dup).toBeNull();
        for (const id of g.copies.slice(1))
          expect(copies.find((c) => c.id === id)).toMatchObject({
            whatsapp_message_id: null,
            dup: survivor.whatsapp_message_id,
          });
      }
      const reaction = async (id: string) =>
        (await rows<{ mensaje_id: string }>('SELECT mensaje_id FROM mensaje_reacciones WHERE id = $1', [id]))[0]!
          .mensaje_id;
      expect(await reaction(facts.ids.reaccionContactoEnCopia)).toBe(facts.ids.wamidA1);
      expect(await reaction(facts.ids.reaccionBrunoEnB2)).toBe(facts.ids.wamidB1);
      // Ana's ❤️ is already on the earliest copy: the twin stays on its copy (recorded), nothing is deleted.
      expect(await reaction(facts.ids.reaccionAnaEnCopia)).toBe(facts.ids.wamidA2);
      expect(firstFix.wamids.skipped).toEqual({ 'mensaje_reacciones.mensaje_id': 1 });
      const quote = (await rows('SELECT mensaje_citado_id FROM mensajes WHERE id = $1', [facts.quote.messageId]))[0];
      expect(quote).toEqual({ mensaje_citado_id: facts.ids.wamidB1 });
      expect(
        (await rows<{ n: number }>(`SELECT count(*)::int AS n FROM mensajes WHERE whatsapp_message_id = ''`))[0]!.n,
      ).toBe(facts.emptyWamidMessageIds.length);
      const view = (
        await rows<{ reacciones: unknown[] }>('SELECT reacciones FROM vw_mensajes_completos WHERE id = $1', [
          facts.ids.wamidA1,
        ])
      )[0]!;
      expect(view.reacciones).toHaveLength(2);
    });

    it('then the unique wamid index exists and refuses a second copy of a wamid, but not a second empty one', async () => {
      expect(firstFix.wamidIndex).toBe('created');
      const idx = await rows<{ indexdef: string }>(
        `SELECT indexdef FROM pg_indexes WHERE indexname = 'mensajes_wamid_unico'`,
      );
      expect(idx[0]!.indexdef).toMatch(
        /CREATE UNIQUE INDEX mensajes_wamid_unico ON public\.mensajes USING btree \(whatsapp_message_id\) WHERE \(\(whatsapp_message_id IS NOT NULL\) AND \(whatsapp_message_id <> ''::text\)\)/,
      );
      await withClient(async (c) => {
        await c.query('BEGIN');
        await c.query(
          `INSERT INTO mensajes (conversacion_id, direccion, whatsapp_message_id) VALUES ($1, 'entrante', '')`,
          [facts.ids.convDerivada],
        );
        await expect(
          c.query(
            `INSERT INTO mensajes (conversacion_id, direccion, whatsapp_message_id) SELECT conversacion_id, 'entrante', whatsapp_message_id FROM mensajes WHERE id = $1`,
            [facts.ids.wamidA1],
          ),
        ).rejects.toMatchObject({ code: '23505' });
        await c.query('ROLLBACK');
      });
    });

    it('then a second --fix changes nothing and the check afterwards reports nothing blocking', async () => {
      const before = await checksum();
      const again = await fixDuplicates(db, log);
      expect(await checksum()).toBe(before);
      expect(again).toMatchObject({
        contacts: { groups: 0, merged: 0 },
        conversations: { groups: 0, merged: 0 },
        wamids: { groups: 0, merged: 0 },
        wamidIndex: 'existed',
        mensajes: facts.messageCount,
      });
      const report = await runCheck(db);
      expect(report.phoneKey).toBe('function');
      expect(report.duplicates.wamids!.groups).toBe(0);
      expect(report.duplicates.conversations!.groups).toBe(0);
      expect(report.duplicates.contacts!.groups).toBe(0);
      expect(report.duplicates.emptyWamids).toBe(3);
      expect(report.wamidIndex.covering?.name).toBe('mensajes_wamid_unico');
      expect(report.blockers).toEqual([]);
      expect(await blockingChecks(db)).toEqual([]);
    });
  });

  it('when the README recipe undoes a conversation merge, then the conversation and everything re-pointed come back', async () => {
    const facts = await buildCrmDatabase(TEST_DATABASE_URL);
    await applyTelefonoClaveMigration();
    const loser = facts.ids.convMartinVieja;
    const snapshot = () =>
      rows(
        `SELECT (SELECT count(*) FROM mensajes WHERE conversacion_id = $1)::int AS m, (SELECT count(*) FROM tickets WHERE conversacion_id = $1)::int AS t,
                (SELECT count(*) FROM derivaciones WHERE conversacion_id = $1)::int AS d, (SELECT count(*) FROM audit_log WHERE registro_id = $1::text)::int AS a,
                (SELECT count(*) FROM menu_sesiones WHERE conversacion_id = $1)::int AS s, (SELECT to_jsonb(c) - 'updated_at' FROM conversaciones c WHERE id = $1) AS fila`,
        [loser],
      );
    const before = await snapshot();
    await fixDuplicates(db, log);
    expect((await snapshot())[0]).toMatchObject({ m: 0, t: 0, d: 0, a: 0, s: 0, fila: null });
    const id = (await rows<{ id: string }>('SELECT id FROM router_fusiones WHERE fusionado_id = $1', [loser]))[0]!.id;
    // Steps 2 and 3 of README "Undoing a merge by hand", verbatim but for the id.
    await withClient((c) =>
      c.query(`BEGIN;
INSERT INTO conversaciones SELECT * FROM jsonb_populate_record(NULL::conversaciones, (SELECT fila FROM router_fusiones WHERE id = ${id}));
DO $$
DECLARE f router_fusiones; k text;
BEGIN
  SELECT * INTO f FROM router_fusiones WHERE id = ${id};
  FOR k IN SELECT jsonb_object_keys(f.repunteos) LOOP
    CONTINUE WHEN k = 'superviviente_antes' OR k LIKE '%:omitidas';
    EXECUTE format('UPDATE %I SET %I = $1 WHERE id::text IN (SELECT jsonb_array_elements_text($2))',
                   split_part(k, '.', 1), split_part(k, '.', 2))
      USING f.fusionado_id, f.repunteos -> k;
  END LOOP;
END $$;
DELETE FROM router_fusiones WHERE id = ${id};
COMMIT;`),
    );
    expect(await snapshot()).toEqual(before);
  });

  it('when a CRM trigger would delete a message during a merge, then that kind is rolled back whole and the fix fails with its code', async () => {
    const facts = await buildCrmDatabase(TEST_DATABASE_URL);
    await applyTelefonoClaveMigration();
    await withClient((c) =>
      c.query(`CREATE FUNCTION borra_un_mensaje() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN DELETE FROM mensajes WHERE id = (SELECT id FROM mensajes ORDER BY id LIMIT 1); RETURN OLD; END $$;
               CREATE TRIGGER trg_borra AFTER DELETE ON conversaciones FOR EACH ROW EXECUTE FUNCTION borra_un_mensaje();`),
    );
    const err = await fixDuplicates(db, log).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isAppError(err) && err.code).toBe('CRM_FIX_FAILED');
    expect((await rows<{ n: number }>('SELECT count(*)::int AS n FROM mensajes'))[0]!.n).toBe(facts.messageCount);
    // Contacts (their own transaction, before) were merged; conversations were not.
    expect(
      await rows<{ tipo: string; n: number }>('SELECT tipo, count(*)::int AS n FROM router_fusiones GROUP BY tipo'),
    ).toEqual([{ tipo: 'contacto', n: 2 }]);
    expect(await rows('SELECT id FROM conversaciones WHERE id = $1', [facts.ids.convMartinVieja])).toHaveLength(1);
  });

  it('when router_fusiones does not exist, then --fix refuses with CRM_FIX_NOT_READY and changes nothing', async () => {
    await buildCrmDatabase(TEST_DATABASE_URL);
    const before = await checksum();
    const err = await fixDuplicates(db, log).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isAppError(err) && err.code).toBe('CRM_FIX_NOT_READY');
    expect(await checksum()).toBe(before);
  });

  it('when the database is the embedded PGlite, then check and fix run on it too', async () => {
    const pglite = await createPgliteDb(null);
    try {
      await migrate(pglite, log, { seed: true });
      const report = await runCheck(pglite);
      expect(report.engine).toBe('pglite');
      expect(report.migrations.pending).toEqual([]);
      expect(report.blockers).toEqual([]);
      const fix = await fixDuplicates(pglite, log);
      expect(fix.contacts.groups + fix.conversations.groups + fix.wamids.groups).toBe(0);
    } finally {
      await pglite.close();
    }
  });

  it('when `migrate --fix` runs as a process without DATABASE_URL, then it migrates the embedded database and reports nothing to merge', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'psi-router-fix-'));
    try {
      const res = await runCli(['--fix'], { DATA_DIR: dataDir });
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toContain('note: no DATABASE_URL');
      expect(res.stdout).toContain('contacts: nothing to merge');
      expect(res.stdout).toContain('Result: nothing blocks the router');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
