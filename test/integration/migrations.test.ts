import { readdir } from 'node:fs/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { MIGRATIONS_DIR, migrate } from '../../src/store/migrate.js';
import { createPgDb } from '../../src/store/pg-db.js';
import { buildCrmDatabase } from '../fixtures/crm/build-crm-db.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { TEST_DATABASE_URL } from '../helpers/test-config.js';

const log = pino({ level: 'silent' });
const open = (): Db =>
  createPgDb({ connectionString: TEST_DATABASE_URL, max: 2, statementTimeoutMs: 10_000, connectTimeoutMs: 2_000 }, log);

describe('migrations', () => {
  const dbs: Db[] = [];
  beforeAll(async () => {
    await resetDatabase();
  });
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.close()));
  });

  it('when four processes start at once on an empty database, then each migration is applied exactly once and the menu seeded once', async () => {
    for (let i = 0; i < 4; i++) dbs.push(open());
    const ran = (await Promise.all(dbs.map((db) => migrate(db, log, { seed: true })))).map((r) => r.ran);
    const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(ran.flat().sort()).toEqual(files);
    await withClient(async (c) => {
      expect((await c.query('SELECT count(*)::int AS n FROM router_migraciones')).rows[0].n).toBe(files.length);
      const main = `(SELECT id FROM router_menu_config WHERE tipo_menu = 'principal')`;
      expect(
        (await c.query(`SELECT count(*)::int AS n FROM router_menu_config WHERE tipo_menu = 'principal'`)).rows[0].n,
      ).toBe(1);
      expect(
        (await c.query(`SELECT count(*)::int AS n FROM router_menu_opciones WHERE menu_config_id = ${main}`)).rows[0].n,
      ).toBe(4);
    });
  });

  it('when migrations run again, then nothing is applied and CRM edits to the menu survive', async () => {
    await withClient((c) =>
      c.query(`UPDATE router_menu_config SET body = 'Texto editado en el CRM' WHERE tipo_menu = 'principal'`),
    );
    await withClient((c) => c.query(`DELETE FROM router_menu_opciones WHERE opcion_id = 'comunidad'`));
    expect(await migrate(dbs[0]!, log, { seed: true })).toEqual({ ran: [], blockers: [] });
    await withClient(async (c) => {
      expect((await c.query(`SELECT body FROM router_menu_config WHERE tipo_menu = 'principal'`)).rows[0].body).toBe(
        'Texto editado en el CRM',
      );
      expect(
        (await c.query(`SELECT count(*)::int AS n FROM router_menu_opciones WHERE opcion_id = 'comunidad'`)).rows[0].n,
      ).toBe(0);
    });
  });

  it('when the database was made by psi-router 0.1, then migrating refuses and says how to start over', async () => {
    await withClient((c) =>
      c.query(`INSERT INTO router_migraciones (nombre, checksum) VALUES ('0001-crm-tables.sql', 'x')`),
    );
    await expect(migrate(dbs[0]!, log, { seed: true })).rejects.toMatchObject({
      code: 'MIGRATION_FAILED',
      message: expect.stringContaining('psi-router 0.1'),
    });
    await withClient((c) => c.query(`DELETE FROM router_migraciones WHERE nombre = '0001-crm-tables.sql'`));
  });

  it('when the schema exists without the migrations table (CRM-created tables), then the IF NOT EXISTS migrations still apply', async () => {
    await withClient((c) => c.query('DROP TABLE router_migraciones'));
    const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql'));
    expect((await migrate(dbs[0]!, log, { seed: true })).ran.length).toBe(files.length);
  });

  it("when the migrations run on the CRM's database, then each change is logged as applied and no CRM write is refused afterwards", async () => {
    await buildCrmDatabase(TEST_DATABASE_URL);
    const lines: Record<string, unknown>[] = [];
    const capture = pino(
      { level: 'info' },
      { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
    );
    const result = await migrate(dbs[0]!, capture, { seed: true });
    expect(result.blockers.map((b) => b.code)).toEqual(['WAMID_DUPLICATES']);
    const added = lines
      .filter((l) => l['msg'] === 'column added')
      .map((l) => `${String(l['table'])}.${String(l['column'])}`);
    expect(added).toEqual(
      expect.arrayContaining(['contactos.wa_user_id', 'mensajes.media_id', 'conversaciones.ts_ultima_derivacion']),
    );
    expect(added).not.toContain('conversaciones.mensajes_no_leidos'); // the CRM's own column is left as it is
    expect(lines.filter((l) => l['msg'] === 'table created').map((l) => l['table'])).toContain('router_eventos');
    // A second run on the now-migrated CRM database changes nothing.
    expect((await migrate(dbs[0]!, capture, { seed: true })).ran).toEqual([]);
  });

  it("when a delivery status updates a stored message, then it is a HOT update that touches none of mensajes' indexes", async () => {
    await withClient(async (c) => {
      await c.query('BEGIN');
      try {
        const conv = await c.query(`INSERT INTO conversaciones (telefono) VALUES ('+5491100000777') RETURNING id`);
        const msg = await c.query(
          `INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, whatsapp_message_id, "timestamp")
           VALUES ($1, 'hot', 'text', 'saliente', 'bot', 'wamid.HOT', now()) RETURNING id`,
          [conv.rows[0].id],
        );
        // The columns a status writes (status-repository.ts): state, ticks, metadata.estados.
        await c.query(
          `UPDATE mensajes SET estado_envio = 'delivered', enviado = true, entregado = true,
                  metadata = metadata || '{"estados": {"delivered": "2026-12-01T00:00:00Z"}}'::jsonb
            WHERE id = $1`,
          [msg.rows[0].id],
        );
        const hot = await c.query(
          `SELECT pg_stat_get_xact_tuples_updated('mensajes'::regclass)::int AS updated,
                  pg_stat_get_xact_tuples_hot_updated('mensajes'::regclass)::int AS hot`,
        );
        expect(hot.rows[0]).toEqual({ updated: 1, hot: 1 });
      } finally {
        await c.query('ROLLBACK');
      }
    });
  });
});
