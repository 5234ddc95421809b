import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphSimulator } from '../../src/simulator/graph-simulator.js';
import { audit } from '../helpers/audit.js';
import { customersWriting } from '../helpers/load.js';
import { startPm2Router, type Pm2Rig } from '../helpers/pm2.js';
import { withClient } from '../helpers/reset-db.js';

/**
 * The shipped ecosystem.config.js under the real PM2: start the cluster, then `pm2 reload` while
 * customers are writing — a deploy must not lose (or duplicate) an acknowledged message.
 */
describe('PM2: start and graceful reload under load', () => {
  let rig: Pm2Rig;
  let sim: GraphSimulator;
  let port: number;
  const pm2 = (...args: string[]) => rig.pm2(...args);

  beforeAll(async () => {
    rig = await startPm2Router({ ROUTER_INSTANCES: '2', LEASE_MS: '2000', LOG_LEVEL: 'warn' });
    ({ sim, port } = rig);
  }, 120_000);

  afterAll(() => rig?.close());

  it('when `pm2 start ecosystem.config.js` runs, then two cluster instances are online and ready', async () => {
    const { stdout } = await pm2('jlist');
    const apps = (JSON.parse(stdout) as { name: string; pm2_env: { status: string; exec_mode: string } }[]).filter(
      (a) => a.name === 'psi-router',
    );
    expect(apps.map((a) => [a.pm2_env.status, a.pm2_env.exec_mode])).toEqual([
      ['online', 'cluster_mode'],
      ['online', 'cluster_mode'],
    ]);
    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).toBe(200);
  });

  it('when `pm2 reload` runs in the middle of load, then every acknowledged message is stored and answered exactly once', async () => {
    let reload: Promise<unknown> | null = null;
    let ackedSoFar = 0;
    let ackedWhenReloadDone = -1;
    const load = await customersWriting({
      urls: () => [`http://127.0.0.1:${port}`],
      customers: 40,
      perCustomer: 4,
      phonePrefix: '549118500',
      redeliver: true,
      // Keep customers writing through the whole reload and a little after it.
      keepGoing: () => ackedWhenReloadDone < 0 || ackedSoFar < ackedWhenReloadDone + 40,
      onAck: (n) => {
        ackedSoFar = n;
        if (n === 40 && !reload) {
          reload = pm2('reload', 'psi-router').then(() => {
            ackedWhenReloadDone = ackedSoFar;
          });
        }
      },
    });
    await reload;
    // The reload really happened while customers were still writing.
    expect(ackedWhenReloadDone).toBeGreaterThan(40);
    expect(load.acked.length).toBeGreaterThan(ackedWhenReloadDone);
    await expect
      .poll(
        async () =>
          (
            await withClient((c) =>
              c.query<{ n: number }>(
                `SELECT ((SELECT count(*) FROM router_eventos WHERE estado = 'pendiente') + (SELECT count(*) FROM router_outbox WHERE estado IN ('pendiente', 'enviando')))::int AS n`,
              ),
            )
          ).rows[0]!.n,
        { timeout: 30_000, interval: 100 },
      )
      .toBe(0);
    const result = await audit(load.acked, sim);
    expect(load.unacked).toEqual([]);
    expect(result).toMatchObject({
      acked: load.acked.length,
      lost: 0,
      storedTwice: 0,
      unanswered: 0,
      answeredTwice: 0,
      outOfOrderReplies: 0,
      overlappingProcessing: 0,
    });
    const { stdout } = await pm2('jlist');
    const apps = (JSON.parse(stdout) as { name: string; pm2_env: { status: string; restart_time: number } }[]).filter(
      (a) => a.name === 'psi-router',
    );
    expect(apps.map((a) => [a.pm2_env.status, a.pm2_env.restart_time])).toEqual([
      ['online', 1],
      ['online', 1],
    ]);
  }, 120_000);
});
