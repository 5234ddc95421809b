import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { resetDatabase } from '../helpers/reset-db.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';
import { startGraphSimulator, type GraphSimulator } from '../../src/simulator/graph-simulator.js';
import type { GraphVersionStatus } from '../../src/outbound/graph-version-status.js';

const TOKEN = 'version-sim-token';
/** "Today" in the issue: v21.0 has 51 days left, v20.0 expired 68 days ago, v25.0 has 606. */
const TODAY = '2026-12-01T10:00:00Z';

interface ReadyBody {
  status: string;
  issues: string[];
  graphVersion: GraphVersionStatus;
}

describe('Graph API version: default, expiry on /ready, /metrics and the log', () => {
  let sim: GraphSimulator;
  let router: RunningRouter | null = null;

  /** A router at `version` (unset = the default) on a clock the test holds. */
  const start = async (version: string | undefined, clock: { now: Date }, logLines?: string[]) => {
    router = await startRouter(
      testConfig({
        WHATSAPP_ACCESS_TOKEN: TOKEN,
        WHATSAPP_API_URL: sim.url,
        OUTBOX_POLL_MS: '50',
        ...(version ? { WHATSAPP_API_VERSION: version } : {}),
      }),
      { now: () => clock.now, ...(logLines ? { logLines } : {}) },
    );
    return router;
  };
  const ready = async (r: RunningRouter) => {
    const res = await fetch(`${r.url}/ready`);
    return { status: res.status, body: (await res.json()) as ReadyBody };
  };
  const daysLeftSample = async (r: RunningRouter) => {
    const text = await (await fetch(`${r.url}/metrics`)).text();
    return text.split('\n').filter((l) => l.startsWith('psi_router_graph_version_days_left'));
  };
  const logged = (lines: string[], code: string) =>
    lines
      .map((l) => JSON.parse(l) as { level: string; code?: string; daysLeft?: number; msg: string })
      .filter((l) => l.code === code);

  beforeAll(async () => {
    await resetDatabase();
    // Strict: any other version in the path answers 404, as Graph does for unknown paths.
    sim = await startGraphSimulator({ accessToken: TOKEN, version: 'v25.0' });
  });
  afterEach(async () => {
    await router?.stop();
    router = null;
    sim.reset();
  });
  afterAll(async () => {
    await sim.close();
  });

  it('when WHATSAPP_API_VERSION is unset, then replies go to /v25.0/, which Meta keeps until 2028-07-29, and /ready is clean', async () => {
    const r = await start(undefined, { now: new Date(TODAY) });
    expect(r.runtime.config.WHATSAPP_API_VERSION).toBe('v25.0');
    const res = await r.postWebhook(inboundEnvelope(textMessage({ body: 'hola' })));
    expect(res.status).toBe(200);
    // The simulator only serves v25.0: a send at any other version would be a 404, never recorded.
    const [sent] = await sim.waitForSent(1);
    expect(sent?.type).toBe('interactive');
    expect(await ready(r)).toEqual({
      status: 200,
      body: {
        status: 'ok',
        issues: [],
        graphVersion: { version: 'v25.0', state: 'current', expires: '2028-07-29', daysLeft: 606 },
      },
    });
    expect(await daysLeftSample(r)).toEqual(['psi_router_graph_version_days_left{version="v25.0"} 606']);
  });

  it('when v21.0 is configured on 2026-12-01, then /ready stays 200 but reports graph_version_expiring with the date, and a warning is logged', async () => {
    const lines: string[] = [];
    const r = await start('v21.0', { now: new Date(TODAY) }, lines);
    expect(await ready(r)).toEqual({
      status: 200,
      body: {
        status: 'ok',
        issues: ['graph_version_expiring'],
        graphVersion: { version: 'v21.0', state: 'expiring', expires: '2027-01-21', daysLeft: 51 },
      },
    });
    expect(await daysLeftSample(r)).toEqual(['psi_router_graph_version_days_left{version="v21.0"} 51']);
    const warnings = logged(lines, 'GRAPH_VERSION_EXPIRING');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', daysLeft: 51 });
    expect(warnings[0]?.msg).toContain('2027-01-21');
  });

  it('when v20.0 is configured on 2026-12-01, then /ready is 503 with graph_version_expired, and an error is logged', async () => {
    const lines: string[] = [];
    const r = await start('v20.0', { now: new Date(TODAY) }, lines);
    expect(await ready(r)).toEqual({
      status: 503,
      body: {
        status: 'degraded',
        issues: ['graph_version_expired'],
        graphVersion: { version: 'v20.0', state: 'expired', expires: '2026-09-24', daysLeft: -68 },
      },
    });
    expect(await daysLeftSample(r)).toEqual(['psi_router_graph_version_days_left{version="v20.0"} -68']);
    expect(logged(lines, 'GRAPH_VERSION_EXPIRED')).toEqual([expect.objectContaining({ level: 'error' })]);
  });

  it('when a version newer than the table is configured, then it is accepted with an info line, no issue and no days-left sample', async () => {
    const lines: string[] = [];
    const r = await start('v28.0', { now: new Date(TODAY) }, lines);
    expect(await ready(r)).toEqual({
      status: 200,
      body: {
        status: 'ok',
        issues: [],
        graphVersion: { version: 'v28.0', state: 'unknown', expires: null, daysLeft: null },
      },
    });
    expect(await daysLeftSample(r)).toEqual([]);
    expect(logged(lines, 'GRAPH_VERSION_UNKNOWN')).toEqual([expect.objectContaining({ level: 'info' })]);
  });

  it('when a running router’s clock passes the 60-day mark and then the date, then /ready follows without a restart', async () => {
    const clock = { now: new Date('2026-11-21T10:00:00Z') };
    const r = await start('v21.0', clock);
    expect(await ready(r)).toMatchObject({
      status: 200,
      body: { issues: [], graphVersion: { state: 'expiring', daysLeft: 61 } },
    });
    clock.now = new Date('2026-11-22T10:00:00Z');
    expect(await ready(r)).toMatchObject({
      status: 200,
      body: { issues: ['graph_version_expiring'], graphVersion: { daysLeft: 60 } },
    });
    clock.now = new Date('2027-01-21T00:00:00Z');
    expect(await ready(r)).toMatchObject({
      status: 503,
      body: { issues: ['graph_version_expired'], graphVersion: { state: 'expired', daysLeft: 0 } },
    });
  });
});
