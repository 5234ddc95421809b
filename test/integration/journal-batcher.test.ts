import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { JournalBatcher } from '../../src/store/journal-batcher.js';
import { appendToJournal, type JournalAppendResult } from '../../src/store/journal-repository.js';
import { migrate } from '../../src/store/migrate.js';
import { createPgDb } from '../../src/store/pg-db.js';
import type { InboundEvent } from '../../src/webhook/inbound-event.js';
import { parseWebhookBody } from '../../src/webhook/parse-events.js';
import {
  bodyOf,
  contact,
  envelope,
  messagesChange,
  statusItem,
  textMessage,
  CUSTOMER_PHONE,
} from '../fixtures/whatsapp/builders.js';
import { resetDatabase, truncateData, withClient } from '../helpers/reset-db.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { hostPort, TEST_DATABASE_URL, viaPort } from '../helpers/test-config.js';

const log = pino({ level: 'silent' });
const openDb = (url = TEST_DATABASE_URL, max = 10) =>
  createPgDb({ connectionString: url, max, statementTimeoutMs: 10_000, connectTimeoutMs: 2_000 }, log);

/** The events of one webhook POST: a customer's text and the statuses of two of our messages. */
function request(phone: string, opts: { text?: string; statuses?: Record<string, unknown>[] } = {}): InboundEvent[] {
  const statuses = opts.statuses ?? [statusItem({ status: 'sent' }), statusItem({ status: 'delivered' })];
  return parseWebhookBody(
    bodyOf(
      envelope(
        messagesChange({
          contacts: [contact({ waId: phone })],
          messages: [textMessage({ from: phone, body: opts.text ?? 'hola' })],
          statuses,
        }),
      ),
    ),
  );
}

const journalByRequest = () =>
  withClient(async (c) => {
    const res = await c.query<{ id: string; request_id: string }>(
      'SELECT id::text AS id, request_id FROM router_eventos',
    );
    return new Map(res.rows.map((r) => [r.id, r.request_id]));
  });

/** An outbound message of ours whose wamid Meta's statuses will name (as the sender leaves it). */
async function insertOutbound(wamid: string): Promise<void> {
  await withClient(async (c) => {
    const contacto = await c.query<{ id: string }>(
      `INSERT INTO contactos (telefono) VALUES ($1) ON CONFLICT (telefono) DO UPDATE SET telefono = excluded.telefono RETURNING id`,
      [`+${CUSTOMER_PHONE}`],
    );
    const conv = await c.query<{ id: string }>(
      `INSERT INTO conversaciones (contacto_id, telefono, linea_origen) VALUES ($1, $2, 'wsp4') RETURNING id`,
      [contacto.rows[0]!.id, `+${CUSTOMER_PHONE}`],
    );
    await c.query(
      `INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, whatsapp_message_id)
       VALUES ($1, 'menú', 'interactive', 'saliente', 'bot', $2)`,
      [conv.rows[0]!.id, wamid],
    );
  });
}

/**
 * Group commit of journal inserts (journal-batcher.ts). With `maxInFlight: 1` the batch a test
 * builds is deterministic: the first append runs alone, and every append made in the same tick
 * waits and then shares the next statement.
 */
describe('journal batcher', () => {
  let db: Db;

  beforeAll(async () => {
    await resetDatabase();
    db = openDb();
    await migrate(db, log, { seed: true });
  });
  afterAll(async () => {
    await db.close();
  });
  beforeEach(async () => {
    await truncateData();
  });

  it('when 50 requests append at once, then they share statements and each gets its own rows and counts', async () => {
    // Ten requests repeat an event an earlier delivery already journalled (a Meta redelivery).
    const requests = Array.from({ length: 50 }, (_, i) => request(`54911600${String(i).padStart(5, '0')}`));
    for (let i = 0; i < 10; i++) await appendToJournal(db, [requests[i * 5]![1]!], `earlier-${i}`);
    const batcher = new JournalBatcher(db, { maxInFlight: 2 });
    const before = db.statementCount();

    const results = await Promise.all(requests.map((events, i) => batcher.append(events, `req-${i}`)));

    const statements = db.statementCount() - before;
    // One statement each would be 50; two run alone, the other 48 wait for the first free slot.
    expect(statements).toBeLessThan(10);
    expect(batcher.stats()).toEqual({ requests: 50, statements });
    const owners = await journalByRequest();
    expect(owners.size).toBe(10 + 50 * 3 - 10);
    results.forEach((result, i) => {
      const redelivered = i % 5 === 0 && i / 5 < 10;
      expect(result.duplicates).toBe(redelivered ? 1 : 0);
      expect(result.inserted).toHaveLength(redelivered ? 2 : 3);
      // The text message waits for processing; statuses were applied (or orphaned) by the insert.
      expect(result.pending.map((p) => p.kind)).toEqual(['message']);
      for (const row of result.inserted) expect(owners.get(row.id)).toBe(`req-${i}`);
    });
  });

  it('when a caller is answered, then its rows are already visible to another connection', async () => {
    const batcher = new JournalBatcher(db, { maxInFlight: 1 });
    // A pool of one: its own connection, and the checks queue on it instead of overlapping.
    const eyes = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
    try {
      const seen = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          batcher.append(request(`54911700${String(i).padStart(5, '0')}`), `vis-${i}`).then(async (result) => {
            const res = await eyes.query<{ n: number }>(
              'SELECT count(*)::int AS n FROM router_eventos WHERE id = ANY($1::bigint[]) AND request_id = $2',
              [result.inserted.map((r) => r.id), `vis-${i}`],
            );
            return res.rows[0]!.n;
          }),
        ),
      );
      expect(seen).toEqual(Array.from({ length: 20 }, () => 3));
      expect(batcher.stats().statements).toBeLessThan(20);
    } finally {
      await eyes.end();
    }
  });

  it('when two requests of one statement carry the same event, then it is written once and is a duplicate for the later', async () => {
    const batcher = new JournalBatcher(db, { maxInFlight: 1 });
    const shared = request('5491180000001', { statuses: [] });
    const occupier = batcher.append(request('5491180000002'), 'occupier');
    const first = batcher.append(shared, 'first');
    const second = batcher.append(shared, 'second');
    await occupier;
    const [a, b] = await Promise.all([first, second]);

    expect(batcher.stats().statements).toBe(2); // first and second shared one
    expect(a).toMatchObject({ duplicates: 0, inserted: [{ kind: 'message' }], pending: [{ kind: 'message' }] });
    expect(b).toEqual({ inserted: [], pending: [], duplicates: 1 });
    const owners = await journalByRequest();
    expect([...owners.values()].filter((r) => r !== 'occupier')).toEqual(['first']);
  });

  it('when one request of a shared statement makes it fail, then the others are still written and only it fails', async () => {
    // A CRM-style trigger that refuses one marked message, as a third-party trigger might.
    await withClient((c) =>
      c.query(`
        CREATE OR REPLACE FUNCTION test_refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.payload::text LIKE '%POISON-7731%' THEN RAISE EXCEPTION 'refused by test trigger'; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER test_refuse_poison BEFORE INSERT ON router_eventos
          FOR EACH ROW EXECUTE FUNCTION test_refuse_poison();`),
    );
    try {
      const batcher = new JournalBatcher(db, { maxInFlight: 1 });
      const occupier = batcher.append(request('5491190000000'), 'occupier');
      const good1 = batcher.append(request('5491190000001'), 'good-1');
      const bad = batcher.append(request('5491190000002', { text: 'POISON-7731' }), 'bad');
      const good2 = batcher.append(request('5491190000003'), 'good-2');
      await occupier;

      await expect(bad).rejects.toMatchObject({ code: 'DB_ERROR', retryable: false });
      expect((await good1).inserted).toHaveLength(3);
      expect((await good2).inserted).toHaveLength(3);
      // occupier, the shared statement that failed, then each of the three alone.
      expect(batcher.stats().statements).toBe(5);
      const owners = await journalByRequest();
      expect(new Set(owners.values())).toEqual(new Set(['occupier', 'good-1', 'good-2']));
    } finally {
      await withClient((c) =>
        c.query(
          'DROP TRIGGER IF EXISTS test_refuse_poison ON router_eventos; DROP FUNCTION IF EXISTS test_refuse_poison()',
        ),
      );
    }
  });

  it('when the database cannot be reached, then every request of the shared statement gets the retryable error', async () => {
    const target = hostPort(TEST_DATABASE_URL, 5432);
    const proxy = await startTcpProxy(target.host, target.port);
    const cut = openDb(viaPort(TEST_DATABASE_URL, proxy.port), 4);
    try {
      const batcher = new JournalBatcher(cut, { maxInFlight: 1 });
      expect((await batcher.append(request('5491110000000'), 'before')).inserted).toHaveLength(3);
      proxy.cut();
      const outcomes = await Promise.allSettled(
        [1, 2, 3].map((i) => batcher.append(request(`549111000000${i}`), `down-${i}`)),
      );

      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
      }
      // before, down-1 alone, then down-2 and down-3 together: no retry alone after an outage.
      expect(batcher.stats().statements).toBe(3);
      expect(new Set((await journalByRequest()).values())).toEqual(new Set(['before']));
    } finally {
      await cut.close();
      await proxy.close();
    }
  });

  it('when statuses of one message arrive in requests that share a statement, then the best one wins and every time is kept', async () => {
    const wamid = 'wamid.SHARED-FLUSH';
    await insertOutbound(wamid);
    const batcher = new JournalBatcher(db, { maxInFlight: 1 });
    const only = (status: string, timestamp: number) =>
      parseWebhookBody(bodyOf(envelope(messagesChange({ statuses: [statusItem({ id: wamid, status, timestamp })] }))));
    const occupier = batcher.append(request('5491120000000'), 'occupier');
    // read first: the statement must not let the later, lesser statuses overwrite it.
    const shared = [
      batcher.append(only('read', 1_780_000_009), 'st-read'),
      batcher.append(only('delivered', 1_780_000_005), 'st-delivered'),
      batcher.append(only('sent', 1_780_000_001), 'st-sent'),
    ];
    await occupier;
    const results: JournalAppendResult[] = await Promise.all(shared);

    expect(batcher.stats().statements).toBe(2);
    for (const r of results) expect(r).toMatchObject({ duplicates: 0, pending: [], inserted: [{ kind: 'status' }] });
    const [row] = await withClient(
      async (c) =>
        (
          await c.query<{
            estado_envio: string;
            enviado: boolean;
            entregado: boolean;
            leido: boolean;
            estados: object;
          }>(
            `SELECT estado_envio, enviado, entregado, leido, metadata->'estados' AS estados
               FROM mensajes WHERE whatsapp_message_id = $1`,
            [wamid],
          )
        ).rows,
    );
    expect(row).toMatchObject({ estado_envio: 'read', enviado: true, entregado: true, leido: true });
    expect(Object.keys(row!.estados).sort()).toEqual(['delivered', 'read', 'sent']);
    const estados = await withClient(
      async (c) =>
        (await c.query<{ estado: string }>(`SELECT DISTINCT estado FROM router_eventos WHERE wamid = $1`, [wamid]))
          .rows,
    );
    expect(estados).toEqual([{ estado: 'hecho' }]);
  });
});
