import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchedStatement } from '../../src/conversations/batched-statement.js';
import { loadConversationContext } from '../../src/store/context-query.js';
import { AppError } from '../../src/errors.js';
import { ensureBatchFunction } from '../../src/store/batch-function.js';
import { CONTEXT_BATCH, loadContexts } from '../../src/store/context-batch.js';
import { DEFAULT_CONTEXT_OPTIONS, type ContextResult } from '../../src/store/context-query.js';
import type { Db } from '../../src/store/db.js';
import { MIGRATION_LOCK_KEY } from '../../src/store/migrate.js';
import { appendToJournal } from '../../src/store/journal-repository.js';
import { parseWebhookBody } from '../../src/webhook/parse-events.js';
import {
  bodyOf,
  envelope,
  inboundEnvelope,
  messagesChange,
  statusItem,
  textMessage,
  PHONE_NUMBER_ID,
} from '../fixtures/whatsapp/builders.js';
import { completeEvents, completionBatch } from '../../src/store/completion-batch.js';
import type { RoutingWrites } from '../../src/store/routing-writes.js';
import { readSchemaProfile } from '../../src/store/schema-profile.js';
import { applyStatusEvents } from '../../src/store/status-repository.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

/** Journals one text of `phone` without processing it (no sweeper runs), as a webhook would. */
async function journal(db: Db, phone: string, body: string): Promise<string> {
  const [event] = parseWebhookBody(bodyOf(inboundEnvelope(textMessage({ from: phone, body }))));
  await appendToJournal(db, [event!], 'test');
  return `${PHONE_NUMBER_ID}:${phone}`;
}

const asEvent = (r: ContextResult | AppError) => {
  if (r instanceof AppError || r.status !== 'event') throw new Error(`expected an event, got ${JSON.stringify(r)}`);
  return r;
};

const writesFor = (conversationId: string, phone: string, text: string): RoutingWrites => ({
  conversationId,
  at: new Date().toISOString(),
  line: PHONE_NUMBER_ID,
  lineCode: 'wsp4',
  to: phone,
  phone: `+${phone}`,
  inReplyTo: 'wamid.test',
  botName: 'Router WSP4',
  state: { router_estado: 'menu' },
  derivation: null,
  replies: [
    {
      ord: 0,
      preview: text,
      tipo: 'text',
      body: { type: 'text', text: { body: text } },
      estado: 'pendiente',
      error: null,
      store: true,
    },
  ],
  notify: null,
});

describe('the context, completion and status statements for many items in one statement', () => {
  let router: RunningRouter;
  let db: Db;

  beforeAll(async () => {
    await resetDatabase();
    router = await startRouter(testConfig(), { sweeper: false, sender: false });
    db = router.runtime.db;
  });
  /** A batcher with one context statement at a time, so what gathers meanwhile is predictable. */
  const oneAtATime = (owner: string) => {
    const args = [owner, 10_000, 10_000, DEFAULT_CONTEXT_OPTIONS] as const;
    return new BatchedStatement<string, ContextResult>(
      {
        name: 'context',
        maxBatch: 16,
        maxInFlight: 1,
        many: (keys) => loadContexts(db, keys, ...args),
        one: (key) => loadConversationContext(db, key, ...args),
      },
      pino({ level: 'silent' }),
    );
  };

  afterAll(async () => {
    await withClient((c) => c.query('DROP TRIGGER IF EXISTS test_refuse ON mensajes'));
    await router.stop();
  });

  it('when six conversations are ready, then one statement leases each, stores each message once and returns each its own conversation', async () => {
    const phones = [1, 2, 3, 4, 5, 6].map((i) => `54911700000${i}`);
    const keys: string[] = [];
    for (const p of phones) keys.push(await journal(db, p, `hola ${p}`));
    const before = db.statementCount();
    const results = await loadContexts(db, keys, 'batch-owner', 10_000, 10_000, DEFAULT_CONTEXT_OPTIONS);
    expect(db.statementCount() - before).toBe(1);
    results.forEach((r, i) => {
      const ctx = asEvent(r);
      expect(ctx.event.text).toBe(`hola ${phones[i]}`);
      expect(ctx.conversation.telefono).toBe(`+${phones[i]}`);
      expect(ctx.created).toBe(true);
      expect(ctx.attempt).toBe(1);
    });
    await withClient(async (c) => {
      const stored = await c.query(`SELECT mensaje FROM mensajes WHERE mensaje LIKE 'hola %' ORDER BY mensaje`);
      expect(stored.rows.map((r) => r.mensaje)).toEqual(phones.map((p) => `hola ${p}`));
      const leases = await c.query(`SELECT conv_key FROM router_locks WHERE owner = 'batch-owner' ORDER BY conv_key`);
      expect(leases.rows.map((r) => r.conv_key)).toEqual([...keys].sort());
    });
    // The leases hold: another owner gets none of them; the events are still pending for their owner.
    const other = await loadContexts(db, keys, 'other-owner', 10_000, 10_000, DEFAULT_CONTEXT_OPTIONS);
    expect(other.map((r) => (r instanceof AppError ? r.code : r.status))).toEqual(keys.map(() => 'not_leased'));
  });

  it('when one conversation of a batch fails (a CRM trigger refuses its message), then only that one fails and nothing of it is kept', async () => {
    await withClient((c) =>
      c.query(`
        CREATE OR REPLACE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.mensaje = 'refused' THEN RAISE EXCEPTION 'refused by the CRM'; END IF; RETURN NEW; END $$;
        CREATE TRIGGER test_refuse BEFORE INSERT ON mensajes FOR EACH ROW EXECUTE FUNCTION test_refuse();`),
    );
    const good1 = await journal(db, '5491170000011', 'bien 1');
    const bad = await journal(db, '5491170000012', 'refused');
    const good2 = await journal(db, '5491170000013', 'bien 2');
    const results = await loadContexts(db, [good1, bad, good2], 'iso-owner', 10_000, 10_000, DEFAULT_CONTEXT_OPTIONS);
    expect(asEvent(results[0]!).event.text).toBe('bien 1');
    expect(asEvent(results[2]!).event.text).toBe('bien 2');
    const failed = results[1];
    expect(failed).toBeInstanceOf(AppError);
    expect((failed as AppError).code).toBe('DB_ERROR');
    expect((failed as AppError).message).toMatch(/refused by the CRM/);
    await withClient(async (c) => {
      // The failed key's subtransaction was undone: no lease, no attempt counted, no contact; the
      // others' writes committed with the statement.
      const lease = await c.query(`SELECT 1 FROM router_locks WHERE conv_key = $1`, [bad]);
      expect(lease.rowCount).toBe(0);
      const ev = await c.query(`SELECT intentos, estado FROM router_eventos WHERE conv_key = $1`, [bad]);
      expect(ev.rows).toEqual([{ intentos: 0, estado: 'pendiente' }]);
      const contacts = await c.query(`SELECT telefono FROM contactos WHERE telefono LIKE '+549117000001_' ORDER BY 1`);
      expect(contacts.rows.map((r) => r.telefono)).toEqual(['+5491170000011', '+5491170000013']);
    });
    await withClient((c) => c.query('DROP TRIGGER test_refuse ON mensajes'));
  });

  it('when the batch function is missing, then the batcher falls back to one statement per conversation and loses nothing', async () => {
    await withClient((c) => c.query(`DROP FUNCTION ${CONTEXT_BATCH.name}`));
    const phones = [21, 22, 23, 24].map((i) => `54911700000${i}`);
    const keys: string[] = [];
    for (const p of phones) keys.push(await journal(db, p, `fallback ${p}`));
    const batcher = oneAtATime('fallback-owner');
    const results = await Promise.all(keys.map((k) => batcher.submit(k)));
    expect(results.map((r) => asEvent(r).event.text)).toEqual(phones.map((p) => `fallback ${p}`));
    // Created again by the next start's migrate (here: directly).
    expect(await db.withAdvisoryLock(MIGRATION_LOCK_KEY, (conn) => ensureBatchFunction(conn, CONTEXT_BATCH))).toBe(
      true,
    );
  });

  it('when conversations become ready while context statements run, then they share the next one', async () => {
    const phones = Array.from({ length: 12 }, (_, i) => `549117000010${String(i).padStart(2, '0')}`);
    const keys: string[] = [];
    for (const p of phones) keys.push(await journal(db, p, `junto ${p}`));
    const batcher = oneAtATime('gather-owner');
    const before = db.statementCount();
    const results = await Promise.all(keys.map((k) => batcher.submit(k)));
    // The first goes alone (nothing was running); the eleven submitted meanwhile go together.
    expect(db.statementCount() - before).toBe(2);
    expect(batcher.stats()).toMatchObject({ batches: 2, items: 12 });
    expect(results.map((r) => asEvent(r).conversation.telefono)).toEqual(phones.map((p) => `+${p}`));
  });

  it('when four events finish together, then each commits what it decided, a lost lease writes nothing, and a failing one fails alone', async () => {
    const phones = [1, 2, 3, 4].map((i) => `54911600000${i}`);
    const keys: string[] = [];
    for (const p of phones) {
      const [event] = parseWebhookBody(bodyOf(inboundEnvelope(textMessage({ from: p, body: `hola ${p}` }))));
      await appendToJournal(db, [event!], 'test');
      keys.push(`${PHONE_NUMBER_ID}:${p}`);
    }
    const ctxs = await loadContexts(db, keys, 'owner-a', 10_000, 10_000, DEFAULT_CONTEXT_OPTIONS);
    const events = ctxs.map((c) => {
      if (c instanceof AppError || c.status !== 'event') throw new Error('expected events');
      return c;
    });
    const profile = await readSchemaProfile(db);
    const before = db.statementCount();
    const results = await completeEvents(db, completionBatch(profile), [
      // Nothing to write (a message the router leaves to its agent).
      { eventId: events[0]!.eventId, convKey: keys[0]!, owner: 'owner-a' },
      // A reply: stored bot row, outbox row, new state.
      {
        eventId: events[1]!.eventId,
        convKey: keys[1]!,
        owner: 'owner-a',
        writes: writesFor(events[1]!.conversation.id, phones[1]!, 'respuesta 2'),
      },
      // Another owner: the lease fences it out.
      {
        eventId: events[2]!.eventId,
        convKey: keys[2]!,
        owner: 'owner-b',
        writes: writesFor(events[2]!.conversation.id, phones[2]!, 'respuesta 3'),
      },
      // Writes the database refuses (no such conversation id shape): fails alone.
      {
        eventId: events[3]!.eventId,
        convKey: keys[3]!,
        owner: 'owner-a',
        writes: writesFor('not-a-uuid', phones[3]!, 'respuesta 4'),
      },
    ]);
    expect(db.statementCount() - before).toBe(1);
    expect(results[0]).toEqual({ committed: true, more: false });
    expect(results[1]).toEqual({ committed: true, more: false });
    expect(results[2]).toEqual({ committed: false, more: false });
    expect(results[3]).toBeInstanceOf(AppError);
    expect((results[3] as AppError).code).toBe('DB_ERROR');
    await withClient(async (c) => {
      const estados = await c.query(
        `SELECT conv_key, estado FROM router_eventos WHERE conv_key = ANY($1) ORDER BY conv_key`,
        [keys],
      );
      expect(estados.rows.map((r) => r.estado)).toEqual(['hecho', 'hecho', 'pendiente', 'pendiente']);
      const outbox = await c.query(`SELECT destinatario, payload FROM router_outbox ORDER BY id`);
      expect(outbox.rows).toEqual([
        { destinatario: phones[1], payload: { type: 'text', text: { body: 'respuesta 2' } } },
      ]);
      const bot = await c.query(`SELECT mensaje FROM mensajes WHERE remitente_tipo = 'bot'`);
      expect(bot.rows.map((r) => r.mensaje)).toEqual(['respuesta 2']);
      const state = await c.query(`SELECT router_estado FROM conversaciones WHERE id = $1`, [
        events[1]!.conversation.id,
      ]);
      expect(state.rows[0].router_estado).toBe('menu');
      // Leases: given back by the two that finished; the fenced and the failed one keep owner-a's.
      const leases = await c.query(`SELECT conv_key FROM router_locks WHERE conv_key = ANY($1) ORDER BY conv_key`, [
        keys,
      ]);
      expect(leases.rows.map((r) => r.conv_key)).toEqual([keys[2], keys[3]]);
    });
  });

  it('when parked statuses are applied together, then each wamid ends at its best status whatever the order, and an unknown one stays parked', async () => {
    const t = Math.floor(Date.now() / 1000) - 60;
    // Journalled before their messages exist: parked as huerfano (as when Meta is faster than our record).
    const statuses = [
      statusItem({ id: 'wamid.B1', status: 'read', timestamp: t + 3 }),
      statusItem({ id: 'wamid.B1', status: 'sent', timestamp: t + 1 }),
      statusItem({ id: 'wamid.B2', status: 'delivered', timestamp: t + 2 }),
      statusItem({ id: 'wamid.B1', status: 'delivered', timestamp: t + 2 }),
      statusItem({ id: 'wamid.NOPE', status: 'sent', timestamp: t + 1 }),
    ];
    const events = parseWebhookBody(bodyOf(envelope(messagesChange({ statuses }))));
    const journalled = await appendToJournal(db, events, 'test');
    const ids = journalled.inserted.map((r) => r.id);
    await withClient(async (c) => {
      const conv = await c.query(`SELECT id FROM conversaciones LIMIT 1`);
      for (const wamid of ['wamid.B1', 'wamid.B2'])
        await c.query(
          `INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, whatsapp_message_id, "timestamp")
           VALUES ($1, 'saliente', 'text', 'saliente', 'bot', $2, now())`,
          [conv.rows[0].id, wamid],
        );
      await c.query(`UPDATE router_eventos SET estado = 'pendiente' WHERE id = ANY($1::bigint[])`, [ids]);
    });
    const before = db.statementCount();
    const outcomes = await applyStatusEvents(db, ids);
    expect(db.statementCount() - before).toBe(1);
    expect(outcomes).toEqual(['applied', 'stale', 'applied', 'stale', 'orphan']);
    await withClient(async (c) => {
      const msgs = await c.query(
        `SELECT whatsapp_message_id AS w, estado_envio, metadata->'estados' AS estados FROM mensajes
          WHERE whatsapp_message_id IN ('wamid.B1', 'wamid.B2') ORDER BY 1`,
      );
      expect(msgs.rows.map((r) => [r.w, r.estado_envio, Object.keys(r.estados).sort()])).toEqual([
        ['wamid.B1', 'read', ['read']],
        ['wamid.B2', 'delivered', ['delivered']],
      ]);
      const ev = await c.query(`SELECT wamid, estado FROM router_eventos WHERE id = ANY($1::bigint[]) ORDER BY id`, [
        ids,
      ]);
      expect(ev.rows.map((r) => r.estado)).toEqual(['hecho', 'hecho', 'hecho', 'hecho', 'huerfano']);
    });
  });
});
