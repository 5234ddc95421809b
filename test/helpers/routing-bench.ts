import { startGraphSimulator, type GraphSimulator } from '../../src/simulator/graph-simulator.js';
import { startFakeInbox, type FakeInbox } from './fake-inbox.js';
import { truncateData, withClient } from './reset-db.js';
import { freePort, startRouter, type RunningRouter } from './start-router.js';
import { TEST_APP_SECRET, testConfig } from './test-config.js';

export const SIM_TOKEN = 'sim-token';
export const INBOX_SECRET = 'inbox-secret';

export interface RoutingRig {
  router: RunningRouter;
  sim: GraphSimulator;
  inbox: FakeInbox;
  /** Waits until processing is idle and the outbox has nothing left it can send now. */
  settle(): Promise<void>;
  /** settle(), then waits until the media downloader has nothing due (backoffs excepted). */
  settleMedia(): Promise<void>;
  /** Empties conversation data and the outbox, and forgets what the fakes recorded. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A router wired to the Graph API simulator (which posts signed statuses back) and to a fake area
 * inbox — every third party at the HTTP boundary, everything else real.
 */
export async function startRoutingRig(
  env: Record<string, string> = {},
  options: { statuses?: boolean; logLines?: string[]; mediaUrlTtlMs?: number; simLatencyMs?: number } = {},
): Promise<RoutingRig> {
  const port = await freePort();
  const sim = await startGraphSimulator({
    accessToken: SIM_TOKEN,
    ...(options.mediaUrlTtlMs !== undefined ? { mediaUrlTtlMs: options.mediaUrlTtlMs } : {}),
    ...(options.simLatencyMs !== undefined ? { latencyMs: options.simLatencyMs } : {}),
    ...(options.statuses === false
      ? {}
      : { statusWebhook: { url: `http://127.0.0.1:${port}/webhook`, appSecret: TEST_APP_SECRET } }),
  });
  const inbox = await startFakeInbox(INBOX_SECRET);
  await withClient((c) => c.query(`UPDATE router_areas SET inbox_webhook_url = $1 || '/' || id`, [inbox.url])).catch(
    () => undefined,
  );
  const router = await startRouter(
    testConfig({
      WHATSAPP_ACCESS_TOKEN: SIM_TOKEN,
      WHATSAPP_API_URL: sim.url,
      INBOX_WEBHOOK_SECRET: INBOX_SECRET,
      CATALOG_TTL_MS: '0',
      OUTBOX_POLL_MS: '50',
      GRAPH_CIRCUIT_THRESHOLD: '3',
      GRAPH_CIRCUIT_OPEN_MS: '400',
      // media_url is written with the message: it must name the port this router really listens on.
      MEDIA_PUBLIC_URL: `http://127.0.0.1:${port}`,
      // Scripted conversations send a message every few milliseconds, faster than any person types;
      // the flood limit has its own tests (reply-limits.test.ts) and stays off here.
      REPLY_FLOOD_MESSAGES: '0',
      ...env,
    }),
    { port, ...(options.logLines ? { logLines: options.logLines } : {}) },
  );
  // Areas are seeded by the router's first migration run: point them at the fake inbox now.
  await withClient((c) => c.query(`UPDATE router_areas SET inbox_webhook_url = $1 || '/' || id`, [inbox.url]));
  const settle = async () => {
    await router.idle();
    await router.runtime.sender.whenDrained();
    await router.idle();
  };
  return {
    router,
    sim,
    inbox,
    settle,
    async settleMedia() {
      await settle();
      await router.runtime.media?.whenIdle();
    },
    async reset() {
      await truncateData();
      sim.reset();
      inbox.deliveries.length = 0;
    },
    async close() {
      const t0 = Date.now();
      await router.stop();
      const t1 = Date.now();
      await sim.close();
      const t2 = Date.now();
      await inbox.close();
      if (process.env.DEBUG_RIG) console.info({ router: t1 - t0, sim: t2 - t1, inbox: Date.now() - t2 });
    },
  };
}
