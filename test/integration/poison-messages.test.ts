import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appendToJournal } from '../../src/store/journal-repository.js';
import type { InboundMessageEvent } from '../../src/webhook/inbound-event.js';
import { parseWebhookBody } from '../../src/webhook/parse-events.js';
import { bodyOf, inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { resetDatabase, truncateData, withClient } from '../helpers/reset-db.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

const MAX_ATTEMPTS = 3;
const PHONE = '5491188880001';

/**
 * A message whose processing fails inside the context statement itself (a CRM trigger that raises, an
 * index row PostgreSQL refuses) must end dead-lettered after PROCESS_MAX_ATTEMPTS while its
 * conversation goes on; the retries run one timer at a time, and no log line carries the phone.
 */
describe('poison messages', () => {
  let router: RunningRouter;
  const lines: string[] = [];
  let maxTimers = 0;
  let sampler: NodeJS.Timeout | null = null;

  beforeAll(async () => {
    await resetDatabase();
    // Sweeper on (every 200 ms): it used to add a retry of its own for every failure.
    router = await startRouter(testConfig({ PROCESS_MAX_ATTEMPTS: String(MAX_ATTEMPTS), LOG_LEVEL: 'debug' }), {
      sender: false,
      logLines: lines,
    });
  });
  afterAll(async () => {
    await router.stop();
  });
  beforeEach(async () => {
    await truncateData();
    lines.length = 0;
    maxTimers = 0;
    sampler = setInterval(() => {
      maxTimers = Math.max(maxTimers, router.runtime.processor.stats().retryTimers);
    }, 5);
  });
  afterEach(async () => {
    if (sampler) clearInterval(sampler);
    await withClient((c) =>
      c.query(
        `DROP TRIGGER IF EXISTS crm_rechaza ON mensajes; DROP TRIGGER IF EXISTS crm_rechaza_estado ON conversaciones`,
      ),
    );
  });

  const events = (phone: string) =>
    withClient(
      async (c) =>
        (
          await c.query(
            `SELECT payload->>'text' AS text, estado, intentos, error FROM router_eventos WHERE tipo = 'message' AND conv_key LIKE '%' || $1 ORDER BY wa_ts, id`,
            [phone],
          )
        ).rows,
    );
  const waitFor = (phone: string, estados: string[]) =>
    expect
      .poll(async () => (await events(phone)).map((e) => e.estado), { timeout: 20_000, interval: 25 })
      .toEqual(estados);
  const stored = (phone: string) =>
    withClient(async (c) =>
      (
        await c.query(
          `SELECT mensaje FROM mensajes WHERE conversacion_id IN (SELECT id FROM conversaciones WHERE telefono = $1) AND direccion = 'entrante' ORDER BY "timestamp"`,
          [`+${phone}`],
        )
      ).rows.map((r) => r.mensaje),
    );
  const noPhoneIn = (phone: string, wamids: string[] = []) => {
    const leaks = lines.filter(
      (l) => l.includes(phone) || l.includes(phone.slice(3)) || wamids.some((w) => l.includes(w)),
    );
    expect(leaks).toEqual([]);
  };

  it('when a CRM trigger makes the context statement fail every time, then the message is dead-lettered after PROCESS_MAX_ATTEMPTS and the next one is processed', async () => {
    // The CRM's own rule, quoting the phone in its error as such triggers do.
    await withClient((c) =>
      c.query(`
      CREATE OR REPLACE FUNCTION crm_rechaza() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.mensaje = 'veneno' THEN RAISE EXCEPTION 'regla del CRM: % no puede escribir esto', (SELECT telefono FROM conversaciones WHERE id = NEW.conversacion_id); END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER crm_rechaza BEFORE INSERT ON mensajes FOR EACH ROW EXECUTE FUNCTION crm_rechaza();`),
    );
    const t0 = Math.floor(Date.now() / 1000) - 30;
    const poison = textMessage({ from: PHONE, body: 'veneno', timestamp: t0 });
    const next = textMessage({ from: PHONE, body: 'después', timestamp: t0 + 1 });
    expect((await router.postWebhook(inboundEnvelope([poison, next]))).status).toBe(200);

    await waitFor(PHONE, ['muerto', 'hecho']);
    const [dead] = await events(PHONE);
    expect(dead).toMatchObject({ text: 'veneno', intentos: MAX_ATTEMPTS });
    expect(dead.error).toMatch(/regla del CRM/);
    expect(await stored(PHONE)).toEqual(['después']);
    expect(maxTimers).toBeLessThanOrEqual(1);
    noPhoneIn(PHONE, [poison.id, next.id]);
    // The failures were logged, with the event's id and a code, not the conversation key.
    const failures = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['msg'] === 'message processing failed; will retry' || l['msg'] === 'message dead-lettered');
    expect(failures.map((l) => l['attempt'])).toEqual([1, 2, 3]);
    expect(failures.at(-1)).toMatchObject({ outcome: 'dead_letter', err: { code: 'DB_ERROR' } });
  });

  it('when the context statement loses a lock race more times than PROCESS_MAX_ATTEMPTS, then the message is stored all the same and no lost race counted as an attempt', async () => {
    // PostgreSQL's deadlock error, raised by the statement's own insert the first five times (a
    // sequence, because the failed statement rolls back anything transactional it wrote).
    await withClient((c) =>
      c.query(`
      CREATE SEQUENCE IF NOT EXISTS test_carreras;
      SELECT setval('test_carreras', 1, false);
      CREATE OR REPLACE FUNCTION crm_rechaza() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.mensaje = 'carrera' AND nextval('test_carreras') <= 5 THEN
          RAISE EXCEPTION 'deadlock detected (simulated)' USING ERRCODE = '40P01';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER crm_rechaza BEFORE INSERT ON mensajes FOR EACH ROW EXECUTE FUNCTION crm_rechaza();`),
    );
    const phone = '5491188880009';
    const msg = textMessage({ from: phone, body: 'carrera', timestamp: Math.floor(Date.now() / 1000) - 10 });
    expect((await router.postWebhook(inboundEnvelope(msg))).status).toBe(200);

    await waitFor(phone, ['hecho']);
    const [event] = await events(phone);
    expect(event.intentos).toBe(1);
    expect(await stored(phone)).toEqual(['carrera']);
    const raced = await withClient(async (c) => (await c.query(`SELECT last_value FROM test_carreras`)).rows[0]);
    expect(Number(raced.last_value)).toBeGreaterThan(MAX_ATTEMPTS);
  });

  it('when an event journalled before validation holds a 3.2 KB user id that breaks an index row, then it is dead-lettered and the conversation moves on', async () => {
    const phone = '5491188880002';
    const t0 = Math.floor(Date.now() / 1000) - 30;
    const [event] = parseWebhookBody(
      bodyOf(inboundEnvelope(textMessage({ from: phone, body: 'usuario enorme', timestamp: t0 }))),
    );
    // Incompressible, so PostgreSQL cannot squeeze it under contactos_wa_user_id's 2,704-byte row limit.
    const poison: InboundMessageEvent = {
      ...(event as InboundMessageEvent),
      userId: `AR.${randomBytes(2400).toString('base64')}`,
    };
    const appended = await appendToJournal(router.runtime.db, [poison], 'test-journalled-earlier');
    router.runtime.processor.enqueue(appended.pending);
    expect(
      (await router.postWebhook(inboundEnvelope(textMessage({ from: phone, body: 'normal', timestamp: t0 + 1 }))))
        .status,
    ).toBe(200);

    await waitFor(phone, ['muerto', 'hecho']);
    const [dead] = await events(phone);
    expect(dead.intentos).toBe(MAX_ATTEMPTS);
    expect(dead.error).toMatch(/index row/);
    expect(await stored(phone)).toEqual(['normal']);
    expect(maxTimers).toBeLessThanOrEqual(1);
    noPhoneIn(phone);
  });

  it('when the completion statement fails every time (a CRM trigger on the conversation state), then the message is dead-lettered with that error', async () => {
    const phone = '5491188880003';
    await withClient((c) =>
      c.query(`
      CREATE OR REPLACE FUNCTION crm_rechaza_estado() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.router_estado IS DISTINCT FROM OLD.router_estado AND NEW.telefono = '+${phone}' THEN
          RAISE EXCEPTION 'estado bloqueado para %', NEW.telefono;
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER crm_rechaza_estado BEFORE UPDATE ON conversaciones FOR EACH ROW EXECUTE FUNCTION crm_rechaza_estado();`),
    );
    expect((await router.postWebhook(inboundEnvelope(textMessage({ from: phone, body: 'hola' })))).status).toBe(200);
    await waitFor(phone, ['muerto']);
    const [dead] = await events(phone);
    expect(dead.intentos).toBe(MAX_ATTEMPTS);
    expect(dead.error).toMatch(/estado bloqueado/);
    // The message itself was stored by the context statement before routing failed.
    expect(await stored(phone)).toEqual(['hola']);
    expect(maxTimers).toBeLessThanOrEqual(1);
    noPhoneIn(phone);
  });

  it('when two conversations are poisoned at once, then each has at most one retry timer and both end dead-lettered', async () => {
    await withClient((c) =>
      c.query(`
      CREATE OR REPLACE FUNCTION crm_rechaza() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.mensaje = 'veneno' THEN RAISE EXCEPTION 'regla del CRM'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER crm_rechaza BEFORE INSERT ON mensajes FOR EACH ROW EXECUTE FUNCTION crm_rechaza();`),
    );
    const phones = ['5491188880004', '5491188880005'];
    for (const phone of phones) {
      // Delivered three times: redeliveries must not add retries of their own.
      for (let i = 0; i < 3; i++) {
        expect(
          (
            await router.postWebhook(
              inboundEnvelope(textMessage({ from: phone, id: `wamid.POISON${phone}`, body: 'veneno' })),
            )
          ).status,
        ).toBe(200);
      }
    }
    for (const phone of phones) await waitFor(phone, ['muerto']);
    expect(maxTimers).toBeLessThanOrEqual(2);
  });
});
