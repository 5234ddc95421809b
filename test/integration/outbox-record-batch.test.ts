import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { RecordBatcher } from '../../src/outbound/record-batcher.js';
import type { Db, Queryable } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { recordSentMany } from '../../src/store/outbox-repository.js';
import { applyStatusEvent } from '../../src/store/status-repository.js';
import { createPgDb } from '../../src/store/pg-db.js';
import { createPgliteDb } from '../../src/store/pglite-db.js';
import { resetDatabase, truncateData, withClient } from '../helpers/reset-db.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { hostPort, TEST_DATABASE_URL, viaPort } from '../helpers/test-config.js';

const log = pino({ level: 'silent' });
const ME = 'out-me';
const OTHER = 'out-other';

const openDb = (url = TEST_DATABASE_URL, connectTimeoutMs = 3_000): Db =>
  createPgDb({ connectionString: url, max: 4, statementTimeoutMs: 10_000, connectTimeoutMs }, log);

/**
 * The one-row record statement as it was before records were batched: the reference for "the same
 * thing per row". Applied row after row in the batch's order, each followed by the status statement
 * for every orphan it revived (the path parked statuses took then), it must leave the database
 * exactly as one recordSentMany over all the rows, then the status statement for what it revives.
 */
const legacyRecordSent = async (db: Queryable, id: string, owner: string, wamid: string | null) =>
  (
    await db.query<{ id: string }>(
      `WITH ob AS (
         UPDATE router_outbox SET estado = CASE WHEN $3::text IS NULL THEN 'omitido' ELSE 'enviado' END,
                wamid = $3, enviado_at = now(), hasta = NULL, error = NULL, error_codigo = NULL
          WHERE id = $1::bigint AND estado IN ('enviando', 'pendiente') AND (owner = $2 OR $3::text IS NOT NULL)
          RETURNING mensaje_id
       ),
       msg AS (
         UPDATE mensajes m SET whatsapp_message_id = $3
          WHERE $3::text IS NOT NULL AND m.id = (SELECT mensaje_id FROM ob)
            AND NOT EXISTS (SELECT 1 FROM mensajes x WHERE x.whatsapp_message_id = $3)
          RETURNING m.id
       ),
       revived AS (
         UPDATE router_eventos SET estado = 'pendiente', disponible_at = now()
          WHERE $3::text IS NOT NULL AND estado = 'huerfano' AND wamid = $3 AND EXISTS (SELECT 1 FROM ob)
          RETURNING id
       )
       SELECT id::text AS id FROM revived`,
      [id, owner, wamid],
    )
  ).rows.map((r) => r.id);

/** One claimed outbox row with its `saliente` message, both tagged (the message text is the tag). */
async function seedRow(
  tag: string,
  o: { owner?: string; estado?: string; wamid?: string | null } = {},
): Promise<string> {
  return withClient(async (c) => {
    const conv = await c.query(`INSERT INTO conversaciones (telefono) VALUES ('5491100000000') RETURNING id`);
    const msg = await c.query(
      `INSERT INTO mensajes (conversacion_id, mensaje, direccion) VALUES ($1, $2, 'saliente') RETURNING id`,
      [conv.rows[0].id, tag],
    );
    const ob = await c.query(
      `INSERT INTO router_outbox (canal, mensaje_id, conversacion_id, linea, destinatario, orden_key, payload, estado, owner, hasta, wamid)
       VALUES ('whatsapp', $1, $2, 'pnid', '5491100000000', $3, '{}'::jsonb, $4, $5, now() + interval '1 minute', $6)
       RETURNING id::text AS id`,
      [msg.rows[0].id, conv.rows[0].id, `k:${tag}`, o.estado ?? 'enviando', o.owner ?? ME, o.wamid ?? null],
    );
    return ob.rows[0].id as string;
  });
}

/** A status that arrived before its message's wamid was known (parked as an orphan). */
const seedOrphan = (clave: string, wamid: string, status = 'sent', extra: Record<string, unknown> = {}) =>
  withClient((c) =>
    c.query(
      `INSERT INTO router_eventos (clave, tipo, wamid, wa_ts, payload, estado) VALUES ($1, 'status', $2, now(), $3::jsonb, 'huerfano')`,
      [clave, wamid, JSON.stringify(orphanPayload(wamid, status, extra))],
    ),
  );

let orphanClock = 1_780_000_000;
const orphanPayload = (wamid: string, status: string, extra: Record<string, unknown>) => ({
  kind: 'status',
  wamid,
  status,
  timestamp: orphanClock++,
  recipientId: '5491100000000',
  ...extra,
});

/** What a record may change, keyed by tag so two seedings of the same scenario compare. */
const snapshot = () =>
  withClient(async (c) => ({
    outbox: (
      await c.query(
        `SELECT m.mensaje AS tag, o.estado, o.wamid, o.owner, o.hasta IS NULL AS lease_cleared, o.enviado_at IS NOT NULL AS enviado_at
           FROM router_outbox o JOIN mensajes m ON m.id = o.mensaje_id ORDER BY o.id`,
      )
    ).rows,
    mensajes: (
      await c.query(
        `SELECT mensaje AS tag, whatsapp_message_id, estado_envio, enviado, entregado, leido, fallido, error_codigo,
                error_mensaje, metadata FROM mensajes ORDER BY mensaje`,
      )
    ).rows,
    eventos: (await c.query(`SELECT id::text AS id, clave, estado FROM router_eventos ORDER BY id`)).rows,
  }));

const estadoOf = (id: string) =>
  withClient(async (c) => (await c.query(`SELECT estado, wamid FROM router_outbox WHERE id = $1`, [id])).rows[0]);

describe('outbox: recording many sends in one statement', () => {
  let db: Db;

  beforeAll(async () => {
    await resetDatabase();
    db = openDb();
    await migrate(db, log, { seed: false });
    // The partial unique wamid index is what two rows with one wamid in a batch would violate.
    const idx = await withClient((c) =>
      c.query(`SELECT 1 FROM pg_indexes WHERE tablename = 'mensajes' AND indexname = 'mensajes_wamid_unico'`),
    );
    expect(idx.rowCount).toBe(1);
  });
  afterAll(async () => {
    await db.close();
  });
  beforeEach(async () => {
    await truncateData();
  });

  /** Every case a record meets, seeded the same way each time (RESTART IDENTITY keeps the ids). */
  async function seedScenario() {
    const a = [];
    for (let i = 1; i <= 5; i++) a.push(await seedRow(`a${i}`));
    const ids = {
      a,
      omitted: await seedRow('b-null'),
      othersNull: await seedRow('c-others-null', { owner: OTHER }),
      takenOver: await seedRow('d-taken-over', { owner: OTHER }),
      echoed: await seedRow('e-echoed'),
      dupFirst: await seedRow('f-dup-first'),
      dupSecond: await seedRow('g-dup-second'),
      done: await seedRow('h-done', { estado: 'enviado', wamid: 'wa.Hold' }),
    };
    // An Evolution echo already holds wa.E on another message.
    await withClient((c) =>
      c.query(`INSERT INTO mensajes (mensaje, direccion, whatsapp_message_id) VALUES ('z-echo', 'saliente', 'wa.E')`),
    );
    orphanClock = 1_780_000_000;
    await seedOrphan('o-a1-sent', 'wa.A1');
    await seedOrphan('o-a1-delivered', 'wa.A1', 'delivered', { pricing: { billable: true, category: 'service' } });
    await seedOrphan('o-a3', 'wa.A3', 'read');
    await seedOrphan('o-a4-failed', 'wa.A4', 'failed', {
      errors: [{ code: 131047, title: 'Re-engagement message', details: 'more than 24 hours' }],
    });
    await seedOrphan('o-a5-unknown', 'wa.A5', 'deleted');
    await seedOrphan('o-d', 'wa.D');
    await seedOrphan('o-e', 'wa.E', 'delivered');
    await seedOrphan('o-dup', 'wa.FG');
    await seedOrphan('o-h-new', 'wa.Hnew');
    await seedOrphan('o-unrelated', 'wa.Z');
    const items = [
      ...a.map((id, i) => ({ id, wamid: `wa.A${i + 1}` })),
      { id: ids.omitted, wamid: null },
      { id: ids.othersNull, wamid: null },
      { id: ids.takenOver, wamid: 'wa.D' },
      { id: ids.echoed, wamid: 'wa.E' },
      { id: ids.dupFirst, wamid: 'wa.FG' },
      { id: ids.dupSecond, wamid: 'wa.FG' },
      { id: ids.done, wamid: 'wa.Hnew' },
    ];
    return { ids, items };
  }

  it('when many sends are recorded in one statement, then each row ends as its own record and its revived statuses would leave it, with parked statuses applied in place', async () => {
    // The reference: the pre-batching statement, one row at a time, each revived status applied after it.
    const { items } = await seedScenario();
    for (const item of items) {
      for (const id of await legacyRecordSent(db, item.id, ME, item.wamid)) await applyStatusEvent(db, id);
    }
    const legacy = await snapshot();

    await truncateData();
    const { ids } = await seedScenario();
    const revived = await recordSentMany(db, ME, items);
    const byOutbox: Record<string, string[]> = {};
    for (const r of revived) (byOutbox[r.outboxId] ??= []).push(r.id);
    for (const r of revived) await applyStatusEvent(db, r.id);
    const batched = await snapshot();

    expect(batched).toEqual(legacy);

    // And spelled out, so a rule both statements got wrong would show here too.
    const outbox = Object.fromEntries(batched.outbox.map((r) => [r.tag, [r.estado, r.wamid]]));
    const mensajes = Object.fromEntries(batched.mensajes.map((r) => [r.tag, r.whatsapp_message_id]));
    const ticks = Object.fromEntries(
      batched.mensajes.map((r) => [r.tag, [r.estado_envio, r.enviado, r.entregado, r.leido, r.fallido]]),
    );
    const eventos = Object.fromEntries(batched.eventos.map((r) => [r.clave, r.estado]));
    expect(outbox).toEqual({
      a1: ['enviado', 'wa.A1'],
      a2: ['enviado', 'wa.A2'],
      a3: ['enviado', 'wa.A3'],
      a4: ['enviado', 'wa.A4'],
      a5: ['enviado', 'wa.A5'],
      'b-null': ['omitido', null],
      'c-others-null': ['enviando', null], // another sender's row, and nothing was sent: not ours to touch
      'd-taken-over': ['enviado', 'wa.D'], // we did send it: recorded even though another took the claim
      'e-echoed': ['enviado', 'wa.E'],
      'f-dup-first': ['enviado', 'wa.FG'],
      'g-dup-second': ['enviado', 'wa.FG'],
      'h-done': ['enviado', 'wa.Hold'], // already recorded: left alone
    });
    expect(mensajes).toEqual({
      a1: 'wa.A1',
      a2: 'wa.A2',
      a3: 'wa.A3',
      a4: 'wa.A4',
      a5: 'wa.A5',
      'b-null': null,
      'c-others-null': null,
      'd-taken-over': 'wa.D',
      'e-echoed': null, // the echo holds wa.E
      'f-dup-first': 'wa.FG',
      'g-dup-second': null, // the first row with wa.FG took it
      'h-done': null,
      'z-echo': 'wa.E',
    });
    expect(eventos).toEqual({
      'o-a1-sent': 'hecho',
      'o-a1-delivered': 'hecho',
      'o-a3': 'hecho',
      'o-a4-failed': 'hecho',
      'o-a5-unknown': 'hecho', // a status word the router does not track: settled, nothing moves
      'o-d': 'hecho',
      'o-e': 'hecho', // revived, then applied by the status statement to the echo that holds wa.E
      'o-dup': 'hecho',
      'o-h-new': 'huerfano',
      'o-unrelated': 'huerfano',
    });
    const none = [null, false, false, false, false];
    expect(ticks).toMatchObject({
      a1: ['delivered', true, true, false, false],
      a2: none,
      a3: ['read', true, true, true, false],
      a4: ['failed', false, false, false, true],
      a5: none,
      'd-taken-over': ['sent', true, false, false, false],
      'f-dup-first': ['sent', true, false, false, false],
      'g-dup-second': none,
      'z-echo': ['delivered', true, true, false, false],
    });
    const a1 = batched.mensajes.find((r) => r.tag === 'a1')!;
    expect(Object.keys(a1.metadata.estados).sort()).toEqual(['delivered', 'sent']);
    expect(a1.metadata.pricing).toEqual({ billable: true, category: 'service' });
    const a4 = batched.mensajes.find((r) => r.tag === 'a4')!;
    expect([a4.error_codigo, a4.error_mensaje]).toEqual([131047, '131047: Re-engagement message — more than 24 hours']);
    const eventId = (clave: string) => batched.eventos.find((e) => e.clave === clave)!.id as string;
    // Only the orphan whose message could not take its wamid is handed back to the status path.
    expect(byOutbox).toEqual({ [ids.echoed]: [eventId('o-e')] });
  });

  it('when records are asked for while one is being written, then they go together in the next statement and each resolves only once its row is committed', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await seedRow(`r${i}`));
    await seedOrphan('o-r7', 'wa.r7');
    // Rows per statement, and a gate holding the first statement before it reaches the database.
    const statements: number[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let entered!: () => void;
    const firstEntered = new Promise<void>((r) => (entered = r));
    const counting: Queryable = {
      query: async (sql, params) => {
        statements.push((params?.[1] as unknown[]).length);
        if (statements.length === 1) {
          entered();
          await gate;
        }
        return db.query(sql, params);
      },
    };
    const batcher = new RecordBatcher(counting, ME, log);
    const settled: string[] = [];
    // Each row is read from another connection the moment its record resolves.
    const seenAtResolve = ids.map((id, i) =>
      (i === 0 ? batcher.record(id, `wa.r${i}`) : firstEntered.then(() => batcher.record(id, `wa.r${i}`))).then(
        async (revived) => {
          settled.push(id);
          return { revived, row: await estadoOf(id) };
        },
      ),
    );
    await firstEntered;
    // The other 19 are queued behind the held statement (their record() calls ran on firstEntered).
    await new Promise((r) => setImmediate(r));
    expect(settled).toEqual([]);
    expect(statements).toEqual([1]);
    open();
    const results = await Promise.all(seenAtResolve);

    expect(statements).toEqual([1, 19]);
    results.forEach(({ row }, i) => expect(row).toEqual({ estado: 'enviado', wamid: `wa.r${i}` }));
    // r7's parked status was applied by the record itself: nothing to hand back.
    expect(results.map((r) => r.revived)).toEqual(ids.map(() => []));
    const r7 = await withClient(
      async (c) =>
        (
          await c.query(
            `SELECT e.estado, m.estado_envio FROM router_eventos e JOIN mensajes m ON m.whatsapp_message_id = e.wamid WHERE e.clave = 'o-r7'`,
          )
        ).rows,
    );
    expect(r7).toEqual([{ estado: 'hecho', estado_envio: 'sent' }]);
  });

  it('when a batch fails for a reason of one row, then each row is recorded alone and only that row fails', async () => {
    const ids = [await seedRow('p0'), await seedRow('p1-poisoned'), await seedRow('p2')];
    // A real database error on one row: a trigger refuses to record it.
    await withClient((c) =>
      c.query(`
        CREATE FUNCTION test_refuse_record() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused by test'; END $$;
        CREATE TRIGGER test_refuse_record BEFORE UPDATE ON router_outbox
          FOR EACH ROW WHEN (NEW.id = ${Number(ids[1])}) EXECUTE FUNCTION test_refuse_record();`),
    );
    try {
      const statements: number[] = [];
      const counting: Queryable = {
        query: (sql, params) => {
          statements.push((params?.[1] as unknown[]).length);
          return db.query(sql, params);
        },
      };
      const batcher = new RecordBatcher(counting, ME, log);
      const results = await Promise.allSettled(ids.map((id, i) => batcher.record(id, `wa.p${i}`)));

      expect(statements).toEqual([3, 1, 1, 1]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'DB_ERROR' });
      expect(await estadoOf(ids[0]!)).toEqual({ estado: 'enviado', wamid: 'wa.p0' });
      expect(await estadoOf(ids[1]!)).toEqual({ estado: 'enviando', wamid: null });
      expect(await estadoOf(ids[2]!)).toEqual({ estado: 'enviado', wamid: 'wa.p2' });
    } finally {
      await withClient((c) =>
        c.query(`DROP TRIGGER test_refuse_record ON router_outbox; DROP FUNCTION test_refuse_record();`),
      );
    }
  });

  it('when the database is away during a batch, then every record of it fails as unavailable at once, without a statement per row', async () => {
    const ids = [await seedRow('q0'), await seedRow('q1'), await seedRow('q2')];
    const pg = hostPort(TEST_DATABASE_URL, 5432);
    const proxy = await startTcpProxy(pg.host, pg.port);
    const away = openDb(viaPort(TEST_DATABASE_URL, proxy.port), 300);
    try {
      const statements: number[] = [];
      const counting: Queryable = {
        query: (sql, params) => {
          statements.push((params?.[1] as unknown[]).length);
          return away.query(sql, params);
        },
      };
      proxy.cut();
      const batcher = new RecordBatcher(counting, ME, log);
      const results = await Promise.allSettled(ids.map((id, i) => batcher.record(id, `wa.q${i}`)));

      expect(statements).toEqual([3]);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(AppError);
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      }
      for (const id of ids) expect(await estadoOf(id)).toEqual({ estado: 'enviando', wamid: null });
    } finally {
      proxy.restore();
      await away.close();
      await proxy.close();
    }
  });

  it('when the embedded engine (PGlite) records a batch, then the same statement does the same', async () => {
    const lite = await createPgliteDb(null);
    try {
      await migrate(lite, log, { seed: false });
      const row = async (tag: string) => {
        const m = await lite.query<{ id: string }>(
          `INSERT INTO mensajes (mensaje, direccion) VALUES ($1, 'saliente') RETURNING id`,
          [tag],
        );
        const o = await lite.query<{ id: string }>(
          `INSERT INTO router_outbox (canal, mensaje_id, destinatario, orden_key, payload, estado, owner)
           VALUES ('whatsapp', $1, '5491100000000', $2, '{}'::jsonb, 'enviando', $3) RETURNING id::text AS id`,
          [m.rows[0]!.id, `k:${tag}`, ME],
        );
        return o.rows[0]!.id;
      };
      const ids = [await row('l0'), await row('l1'), await row('l2'), await row('l3')];
      await lite.query(
        `INSERT INTO router_eventos (clave, tipo, wamid, wa_ts, payload, estado) VALUES ('o-l0', 'status', 'wa.L0', now(), $1::jsonb, 'huerfano')`,
        [JSON.stringify(orphanPayload('wa.L0', 'delivered', {}))],
      );
      const revived = await recordSentMany(lite, ME, [
        { id: ids[0]!, wamid: 'wa.L0' },
        { id: ids[1]!, wamid: null },
        { id: ids[2]!, wamid: 'wa.Ldup' },
        { id: ids[3]!, wamid: 'wa.Ldup' },
      ]);

      expect(revived).toEqual([]);
      const rows = await lite.query(
        `SELECT m.mensaje AS tag, o.estado, o.wamid, m.whatsapp_message_id AS msg_wamid, m.estado_envio
           FROM router_outbox o JOIN mensajes m ON m.id = o.mensaje_id ORDER BY o.id`,
      );
      expect(rows.rows).toEqual([
        { tag: 'l0', estado: 'enviado', wamid: 'wa.L0', msg_wamid: 'wa.L0', estado_envio: 'delivered' },
        { tag: 'l1', estado: 'omitido', wamid: null, msg_wamid: null, estado_envio: null },
        { tag: 'l2', estado: 'enviado', wamid: 'wa.Ldup', msg_wamid: 'wa.Ldup', estado_envio: null },
        { tag: 'l3', estado: 'enviado', wamid: 'wa.Ldup', msg_wamid: null, estado_envio: null },
      ]);
      const parked = await lite.query(`SELECT estado FROM router_eventos WHERE clave = 'o-l0'`);
      expect(parked.rows).toEqual([{ estado: 'hecho' }]);
    } finally {
      await lite.close();
    }
  });
});
