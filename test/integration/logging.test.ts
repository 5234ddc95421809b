import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageMessage, inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { resetDatabase } from '../helpers/reset-db.js';
import { INBOX_SECRET, SIM_TOKEN, startRoutingRig, type RoutingRig } from '../helpers/routing-bench.js';
import { TEST_APP_SECRET } from '../helpers/test-config.js';

const PHONE = '5491123456789';
const SECRET_TEXT = 'mi DNI es 30111222 y mi clave es hunter2';

describe('structured logs', () => {
  let rig: RoutingRig;
  const lines: string[] = [];

  beforeAll(async () => {
    await resetDatabase();
    rig = await startRoutingRig({ LOG_LEVEL: 'debug', ADMIN_TOKEN: 'admin-log-token-xyz' }, { logLines: lines });
    const ts = Math.floor(Date.now() / 1000) - 20;
    await rig.router.postWebhook(inboundEnvelope(textMessage({ from: PHONE, body: SECRET_TEXT, timestamp: ts }), { name: 'Lucía Fernández' }));
    await rig.router.postWebhook(inboundEnvelope(textMessage({ from: PHONE, body: '1', timestamp: ts + 1 })));
    await rig.router.postWebhook(inboundEnvelope(imageMessage({ from: PHONE, caption: SECRET_TEXT, timestamp: ts + 2 })));
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
    for (const forbidden of [PHONE, '30111222', 'hunter2', 'Lucía', TEST_APP_SECRET, SIM_TOKEN, INBOX_SECRET, 'admin-log-token-xyz']) {
      expect(all.includes(forbidden), `logs contain ${forbidden}`).toBe(false);
    }
  });

  it('when a message is processed, then exactly one line says so with event, conversation, duration, outcome and request id', () => {
    const processed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'message processed');
    expect(processed).toHaveLength(3);
    for (const p of processed) {
      expect(p).toMatchObject({ level: 'info', module: 'processor', event: expect.any(String), conversationId: expect.any(String), outcome: expect.any(String) });
      expect(typeof p['durationMs']).toBe('number');
      expect(typeof p['requestId']).toBe('string');
    }
    expect(processed.map((p) => p['outcome'])).toEqual(['menu_sent', 'derived', 'forwarded']);
  });
});
