import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contact, envelope, inboundEnvelope, messagesChange, textMessage } from '../fixtures/whatsapp/builders.js';
import { resetDatabase } from '../helpers/reset-db.js';
import { startRoutingRig, type RoutingRig } from '../helpers/routing-bench.js';
import { readJson } from '../helpers/start-router.js';

/** Minimal Prometheus text-format parser: every sample line must parse, or the test fails. */
function parseProm(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return samples;
}

const pgCluster = () => {
  const version = readdirSync('/etc/postgresql')[0]!;
  return (action: 'start' | 'stop') =>
    execFileSync(
      'pg_ctlcluster',
      ['--skip-systemctl-redirect', version, 'main', action, ...(action === 'stop' ? ['-m', 'fast'] : [])],
      { stdio: 'ignore' },
    );
};

describe('health, readiness and metrics', () => {
  let rig: RoutingRig;
  const metrics = async () => parseProm(await (await fetch(`${rig.router.url}/metrics`)).text());

  beforeAll(async () => {
    await resetDatabase();
    rig = await startRoutingRig({ DB_CONNECT_TIMEOUT_MS: '1000' }, { statuses: false });
  });
  afterAll(async () => {
    await rig.close();
  });

  it('when traffic flows, then the Prometheus text parses and the counters move with it', async () => {
    const before = await metrics();
    const accepted = (m: Map<string, number>) => m.get('psi_router_webhook_requests_total{outcome="accepted"}') ?? 0;
    const rejected = (m: Map<string, number>) =>
      m.get('psi_router_webhook_requests_total{outcome="rejected_signature"}') ?? 0;
    const ts = Math.floor(Date.now() / 1000) - 10;
    await rig.router.postWebhook(inboundEnvelope(textMessage({ from: '5491170000001', body: 'hola', timestamp: ts })));
    await rig.router.postWebhook(
      envelope(
        messagesChange({
          contacts: [contact({ waId: '5491170000001' })],
          messages: [textMessage({ from: '5491170000001', body: '1', timestamp: ts + 1 })],
        }),
      ),
    );
    await rig.router.postWebhook(inboundEnvelope(textMessage({ body: 'x' })), { secret: 'wrong' });
    await rig.settle();
    const after = await metrics();
    expect(accepted(after) - accepted(before)).toBe(2);
    expect(rejected(after) - rejected(before)).toBe(1);
    expect(after.get('psi_router_events_total{kind="message",type="text"}')).toBeGreaterThanOrEqual(2);
    expect(after.get('psi_router_processing_seconds_count{outcome="menu_sent"}')).toBeGreaterThanOrEqual(1);
    // Option 1 of the seeded main menu derives to the CRM's `admin` area (router_menu_opciones.area_destino).
    expect(after.get('psi_router_derivations_total{area="admin"}')).toBe(1);
    expect([...after.keys()].filter((k) => k.startsWith('psi_router_derivations_total{'))).toEqual([
      'psi_router_derivations_total{area="admin"}',
    ]);
    expect(after.get('psi_router_outbound_total{channel="whatsapp",result="sent",code=""}')).toBeGreaterThanOrEqual(2);
    expect(after.get('psi_router_webhook_ack_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(after.get('psi_router_graph_circuit_state')).toBe(0);
    expect(after.get('psi_router_outbox_depth{channel="whatsapp"}')).toBe(0);
    expect(after.get('psi_router_messages_last_minute')).toBeGreaterThanOrEqual(2);
    expect(after.has('psi_router_process_resident_memory_bytes')).toBe(true);
  });

  it('when Postgres is stopped, then /ready is 503 database_unreachable while /health stays 200, and it clears once Postgres is back', async () => {
    const cluster = pgCluster();
    const ready = async () => {
      const res = await fetch(`${rig.router.url}/ready`);
      return { status: res.status, issues: (await readJson(res)).issues };
    };
    expect(await ready()).toEqual({ status: 200, issues: [] });
    cluster('stop');
    try {
      const down = await ready();
      expect(down.status).toBe(503);
      expect(down.issues).toContain('database_unreachable');
      expect((await fetch(`${rig.router.url}/health`)).status).toBe(200);
      const webhook = await rig.router.postWebhook(inboundEnvelope(textMessage({ body: 'durante la caída' })));
      expect(webhook.status).toBe(503);
    } finally {
      cluster('start');
    }
    await expect.poll(ready, { timeout: 20_000, interval: 200 }).toEqual({ status: 200, issues: [] });
  });
});
