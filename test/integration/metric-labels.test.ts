import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  entry,
  envelopeOfEntries,
  messagesChange,
  otherFieldChange,
  statusItem,
} from '../fixtures/whatsapp/builders.js';
import { resetDatabase } from '../helpers/reset-db.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

describe('metric labels from payloads', () => {
  let router: RunningRouter;

  beforeAll(async () => {
    await resetDatabase();
    router = await startRouter(testConfig(), { sender: false, media: false });
  });
  afterAll(async () => {
    await router.stop();
  });

  it('when a signed batch invents hundreds of statuses and webhook fields, then /metrics counts them under one label instead of a series each', async () => {
    const invented = Array.from({ length: 300 }, () => `st_${randomBytes(6).toString('hex')}`);
    const fields = Array.from({ length: 50 }, () => `field_${randomBytes(6).toString('hex')}`);
    const batch = envelopeOfEntries(
      entry([messagesChange({ statuses: invented.map((status) => statusItem({ status })) })]),
      entry(fields.map((f) => otherFieldChange(f))),
      entry([messagesChange({ statuses: [statusItem({ status: 'delivered' })] })]),
    );
    expect((await router.postWebhook(batch)).status).toBe(200);
    const text = await (await fetch(`${router.url}/metrics`)).text();
    const series = text.split('\n').filter((l) => l.startsWith('psi_router_events_total{'));
    for (const token of [...invented, ...fields])
      expect(text.includes(token), `a series is labelled ${token}`).toBe(false);
    expect(series.length).toBeLessThanOrEqual(5);
    expect(series).toContain('psi_router_events_total{kind="status",type="unknown"} 300');
    expect(series).toContain('psi_router_events_total{kind="status",type="delivered"} 1');
    // A field Meta does not send is kept as an `other` event with the reason unhandled_field.
    expect(series).toContain('psi_router_events_total{kind="other",type="unhandled_field"} 50');
  });
});
