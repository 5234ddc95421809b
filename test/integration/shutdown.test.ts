import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { migrateTestDatabase, resetDatabase, withClient } from '../helpers/reset-db.js';
import { spawnRouter, type RouterProcess } from '../helpers/spawn-router.js';
import { postSigned } from '../helpers/start-router.js';
import { TEST_APP_SECRET, TEST_DATABASE_URL } from '../helpers/test-config.js';

const ENV = { DATABASE_URL: TEST_DATABASE_URL, WHATSAPP_APP_SECRET: TEST_APP_SECRET, WHATSAPP_VERIFY_TOKEN: 'x' };

describe('graceful shutdown', () => {
  const procs: RouterProcess[] = [];
  beforeAll(async () => {
    await resetDatabase();
    await migrateTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
  });

  it('when SIGTERM arrives right after messages were acknowledged, then it finishes them, gives its leases back and exits 0', async () => {
    const router = await spawnRouter(ENV);
    procs.push(router);
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      const m = textMessage({ from: `54911860000${String(i).padStart(2, '0')}`, body: 'antes de apagar' });
      if ((await postSigned(router.url, inboundEnvelope(m))).status === 200) acked.push(m.id);
    }
    router.child.kill('SIGTERM');
    expect(await router.exited).toBe(0);
    const msgs = router.logs.map((l) => l['msg']);
    expect(msgs).toContain('shutting down');
    expect(msgs).toContain('shutdown complete');
    await withClient(async (c) => {
      expect(
        (await c.query(`SELECT count(*)::int AS n FROM mensajes WHERE whatsapp_message_id = ANY($1)`, [acked])).rows[0]
          .n,
      ).toBe(20);
      expect((await c.query(`SELECT count(*)::int AS n FROM router_locks`)).rows[0].n).toBe(0);
    });
  });

  it('when a second signal arrives during shutdown, then the process exits at once with code 1', async () => {
    const router = await spawnRouter(ENV);
    procs.push(router);
    // A request whose body never finishes keeps the first shutdown busy (HTTP drain).
    const socket = connect(Number(new URL(router.url).port), '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      'POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"obj',
    );
    router.child.kill('SIGINT');
    await expect
      .poll(() => router.logs.map((l) => l['msg']), { timeout: 5_000, interval: 20 })
      .toContain('shutting down');
    expect(router.logs.map((l) => l['msg'])).not.toContain('shutdown complete');
    router.child.kill('SIGINT');
    expect(await router.exited).toBe(1);
    socket.destroy();
    expect(router.logs.map((l) => l['msg'])).toContain('second signal: exiting now');
  });
});
