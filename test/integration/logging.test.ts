import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInboundWorker } from '../../src/conversations/inbound-worker.js';
import { queueIngest } from '../../src/conversations/queue-ingest.js';
import { producerConnection, workerConnection } from '../../src/conversations/redis-connections.js';
import { buildLoggerOptions } from '../../src/logger.js';
import { parseWebhookBody } from '../../src/webhook/parse-events.js';
import { envelope, imageMessage, inboundEnvelope, messagesChange, textMessage } from '../fixtures/whatsapp/builders.js';
import { nextWamid, PHONE_NUMBER_ID } from '../fixtures/whatsapp/ids.js';
import { freshRedisDb } from '../helpers/redis.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { INBOX_SECRET, SIM_TOKEN, startRoutingRig, type RoutingRig } from '../helpers/routing-bench.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { TEST_APP_SECRET, TEST_DATABASE_URL, testConfig } from '../helpers/test-config.js';

const PHONE = '5491123456789';
const SECRET_TEXT = 'mi DNI es 30111222 y mi clave es hunter2';

describe('structured logs', () => {
  let rig: RoutingRig;
  const lines: string[] = [];

  beforeAll(async () => {
    await resetDatabase();
    rig = await startRoutingRig({ LOG_LEVEL: 'debug', ADMIN_TOKEN: 'admin-log-token-xyz' }, { logLines: lines });
    const ts = Math.floor(Date.now() / 1000) - 20;
    await rig.router.postWebhook(
      inboundEnvelope(textMessage({ from: PHONE, body: SECRET_TEXT, timestamp: ts }), { name: 'Lucía Fernández' }),
    );
    await rig.router.postWebhook(inboundEnvelope(textMessage({ from: PHONE, body: '1', timestamp: ts + 1 })));
    await rig.router.postWebhook(
      inboundEnvelope(imageMessage({ from: PHONE, caption: SECRET_TEXT, timestamp: ts + 2 })),
    );
    await rig.router.postWebhook(inboundEnvelope(textMessage({ from: PHONE, body: 'x' })), { secret: 'wrong' });
    await rig.settle();
    await fetch(`${rig.router.url}/admin/stats`, { headers: { authorization: 'Bearer admin-log-token-xyz' } });
    await rig.sim.statusWebhooksIdle();
    await rig.settle();
  });
  afterAll(async () => {
    await rig.close();
  });

  it('when messages flow, then every line is JSON and none holds a phone number, a message text, a name or a secret', () => {
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    const all = lines.join('\n');
    for (const forbidden of [
      PHONE,
      '30111222',
      'hunter2',
      'Lucía',
      TEST_APP_SECRET,
      SIM_TOKEN,
      INBOX_SECRET,
      'admin-log-token-xyz',
    ]) {
      expect(all.includes(forbidden), `logs contain ${forbidden}`).toBe(false);
    }
  });

  it('when a message is processed, then exactly one line says so with event, conversation, duration, outcome and request id', () => {
    const processed = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['msg'] === 'message processed');
    expect(processed).toHaveLength(3);
    for (const p of processed) {
      expect(p).toMatchObject({
        level: 'info',
        module: 'processor',
        event: expect.any(String),
        conversationId: expect.any(String),
        outcome: expect.any(String),
      });
      expect(typeof p['durationMs']).toBe('number');
      expect(typeof p['requestId']).toBe('string');
    }
    expect(processed.map((p) => p['outcome'])).toEqual(['menu_sent', 'derived', 'forwarded']);
  });

  it('when the sandbox page writes as a test customer, then the audit line names the line and outcome, and no line holds the text, the number or the name', async () => {
    const from = lines.length;
    const sandboxPhone = '00001234567';
    const res = await fetch(`${rig.router.url}/admin/sandbox/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer admin-log-token-xyz' },
      body: JSON.stringify({
        line: 'wsp4',
        customer: { phone: sandboxPhone, name: 'Lucía Sandbox' },
        input: { kind: 'text', text: SECRET_TEXT },
      }),
    });
    expect(res.status).toBe(202);
    await rig.settle();
    const added = lines.slice(from);
    const all = added.join('\n');
    for (const forbidden of [sandboxPhone, '30111222', 'hunter2', 'Lucía', 'admin-log-token-xyz']) {
      expect(all.includes(forbidden), `logs contain ${forbidden}`).toBe(false);
    }
    const parsed = added.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.find((l) => l['action'] === 'POST /admin/sandbox/api/messages')).toMatchObject({
      audit: true,
      target: 'wsp4',
      outcome: 'text 200',
    });
    expect(parsed.filter((l) => l['msg'] === 'sandbox: captured, not sent').length).toBeGreaterThan(0);
  });
});

type LogLine = Record<string, unknown>;

/** Log lines as they are written, with a way to wait for one (no sleeping on the clock). */
function watchedLines() {
  const lines: string[] = [];
  let waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  const push = lines.push.bind(lines);
  lines.push = (...items: string[]) => {
    const n = push(...items);
    for (const item of items) {
      const parsed = JSON.parse(item) as LogLine;
      waiters = waiters.filter((w) => (w.match(parsed) ? (w.resolve(parsed), false) : true));
    }
    return n;
  };
  return {
    lines,
    waitFor(match: (l: LogLine) => boolean, what: string, timeoutMs = 20_000): Promise<LogLine> {
      const seen = lines.map((l) => JSON.parse(l) as LogLine).find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line: ${what}`)), timeoutMs);
        waiters.push({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      });
    },
  };
}

describe('structured logs under faults: no phone number on any error path', () => {
  // One customer per fault, so a leak names the path that leaked.
  const OUTAGE_PHONE = '5491123450011';
  const TRIGGER_PHONE = '5491123450022';
  const JOURNAL_PHONE = '5491123450033';
  const META_PHONE = '5491123450044';
  const PHONES = [OUTAGE_PHONE, TRIGGER_PHONE, JOURNAL_PHONE, META_PHONE];
  const log = watchedLines();
  let rig: RoutingRig;
  let proxy: TcpProxy | null = null;
  let other: RunningRouter | null = null;
  const sql = (text: string) => withClient((c) => c.query(text));

  /** Every line so far: JSON, and no phone (nor its conversation key, nor a wamid, which is base64 of it). */
  const expectNoPhones = () => {
    expect(log.lines.length).toBeGreaterThan(0);
    for (const line of log.lines) {
      expect(() => JSON.parse(line)).not.toThrow();
      for (const phone of PHONES) expect(line.includes(phone), `a log line holds ${phone}: ${line}`).toBe(false);
      expect(line.includes(`${PHONE_NUMBER_ID}:`), `a log line holds a conversation key: ${line}`).toBe(false);
      expect(/wamid\.(?!\[masked\])/.test(line), `a log line holds a wamid: ${line}`).toBe(false);
    }
  };

  beforeAll(async () => {
    await resetDatabase();
    rig = await startRoutingRig({ LOG_LEVEL: 'debug' }, { statuses: false, logLines: log.lines });
  });
  afterAll(async () => {
    await sql(
      'DROP TRIGGER IF EXISTS crm_regla ON contactos; DROP TRIGGER IF EXISTS crm_regla ON router_eventos; DROP FUNCTION IF EXISTS crm_regla()',
    );
    await other?.stop().catch(() => undefined);
    await proxy?.close();
    await rig.close();
  });

  it('when the database goes away while a conversation is scheduled, then the retry, sweep and 503 lines name no phone', async () => {
    proxy = await startTcpProxy('127.0.0.1', 5432);
    const viaProxy = new URL(TEST_DATABASE_URL);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    other = await startRouter(testConfig({ DATABASE_URL: viaProxy.toString(), LOG_LEVEL: 'debug' }), {
      logLines: log.lines,
    });
    proxy.cut();
    // What ingress does once a batch is durable: the processor now needs the database it lost.
    other.runtime.processor.enqueue([{ id: '1', kind: 'message', convKey: `${PHONE_NUMBER_ID}:${OUTAGE_PHONE}` }]);
    expect((await other.postWebhook(inboundEnvelope(textMessage({ from: OUTAGE_PHONE, body: 'hola' })))).status).toBe(
      503,
    );
    await log.waitFor((l) => l['msg'] === 'store unavailable; will retry', 'processor store retry');
    await log.waitFor((l) => l['msg'] === 'sweep pass failed; retrying', 'sweeper failure');
    proxy.restore();
    await other.stop();
    other = null;
    expectNoPhones();
  });

  it('when a CRM trigger refuses the customer and quotes the phone, then the processing error line has neither the phone nor the key', async () => {
    await sql(`CREATE FUNCTION crm_regla() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.telefono = '+${TRIGGER_PHONE}' THEN RAISE EXCEPTION 'contacto % rechazado por la regla del CRM', NEW.telefono; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER crm_regla BEFORE INSERT ON contactos FOR EACH ROW EXECUTE FUNCTION crm_regla();`);
    expect(
      (await rig.router.postWebhook(inboundEnvelope(textMessage({ from: TRIGGER_PHONE, body: 'hola' })))).status,
    ).toBe(200);
    const line = await log.waitFor(
      (l) => l['level'] === 'error' && JSON.stringify(l).includes('rechazado por la regla del CRM'),
      'processing error',
    );
    expect(JSON.stringify(line)).toContain('contacto [number] rechazado');
    await sql('DROP TRIGGER crm_regla ON contactos; DROP FUNCTION crm_regla()');
    expectNoPhones();
  });

  it("when the journal refuses an event and quotes its wamid, then the webhook's 500 line and the queue worker's failure line carry neither", async () => {
    const wamid = nextWamid(JOURNAL_PHONE);
    await sql(`CREATE FUNCTION crm_regla() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.wamid = '${wamid}' THEN RAISE EXCEPTION 'evento % rechazado', NEW.wamid; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER crm_regla BEFORE INSERT ON router_eventos FOR EACH ROW EXECUTE FUNCTION crm_regla();`);
    const batch = inboundEnvelope(textMessage({ from: JOURNAL_PHONE, body: 'hola', id: wamid }));
    expect((await rig.router.postWebhook(batch)).status).toBe(500);
    await log.waitFor((l) => l['msg'] === 'request failed', 'webhook 500');

    // Queue mode's worker on a Redis database of this file's own: the same event as a job.
    const redisUrl = await freshRedisDb(12);
    const producer = producerConnection(redisUrl);
    const ingest = queueIngest(producer, { attempts: 2, backoffMs: 10 });
    const worker = startInboundWorker({
      connection: workerConnection(redisUrl),
      db: rig.router.runtime.db,
      processor: rig.router.runtime.processor,
      concurrency: 1,
      outageBackoffMs: 10,
      lockMs: 5_000,
      log: pino(buildLoggerOptions('debug'), { write: (l: string) => void log.lines.push(l) }),
    });
    try {
      if (producer.status !== 'ready') await new Promise((resolve) => producer.once('ready', resolve));
      await ingest.ingest(parseWebhookBody(Buffer.from(JSON.stringify(batch))), 'logging-queue-fault');
      const dead = await log.waitFor((l) => l['msg'] === 'inbound job dead-lettered', 'queue job failure');
      expect(dead).toMatchObject({ jobHash: expect.stringMatching(/^[0-9a-f]{16}$/), kind: 'message' });
    } finally {
      await worker.close();
      await ingest.close();
      producer.disconnect();
      await sql('DROP TRIGGER crm_regla ON router_eventos; DROP FUNCTION crm_regla()');
    }
    expectNoPhones();
  });

  it("when Meta reports an error whose text quotes the customer's number, then the warning masks it", async () => {
    const errors = [
      {
        code: 131051,
        title: 'Unsupported message type',
        message: `Message from ${META_PHONE} is not supported`,
        error_data: { details: `wa_id +${META_PHONE}` },
      },
    ];
    expect((await rig.router.postWebhook(envelope(messagesChange({ errors })))).status).toBe(200);
    const line = await log.waitFor((l) => l['msg'] === 'Meta reported webhook errors', 'Meta error warning');
    expect(JSON.stringify(line)).toContain('Message from [number] is not supported');
    expectNoPhones();
  });
});
