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
import { bodyOf, inboundEnvelope, textMessage, PHONE_NUMBER_ID } from '../fixtures/whatsapp/builders.js';
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

describe('the context query for many conversations in one statement', () => {
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
});
