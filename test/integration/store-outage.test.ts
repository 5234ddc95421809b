import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { startRouter, type RunningRouter, readJson } from '../helpers/start-router.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { hostPort, testConfig, TEST_DATABASE_URL, viaPort } from '../helpers/test-config.js';

describe('database outage on the ack path', () => {
  let proxy: TcpProxy;
  let router: RunningRouter;

  beforeAll(async () => {
    await resetDatabase();
    const pg = hostPort(TEST_DATABASE_URL, 5432);
    proxy = await startTcpProxy(pg.host, pg.port);
    // The router reaches the very database the assertions read (TEST_DATABASE_URL), through the proxy.
    router = await startRouter(
      testConfig({ DATABASE_URL: viaPort(TEST_DATABASE_URL, proxy.port), DB_CONNECT_TIMEOUT_MS: '500' }),
    );
  });
  afterAll(async () => {
    proxy.restore();
    await router.stop();
    await proxy.close();
  });

  it('when Postgres becomes unreachable, then Meta gets 503 (not 200) and, once it is back, the redelivery is stored', async () => {
    const body = inboundEnvelope(textMessage({ body: 'durante el corte' }));
    proxy.cut();
    const res = await router.postWebhook(body);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect((await readJson(res)).error.code).toBe('STORE_UNAVAILABLE');
    const ready = await fetch(`${router.url}/ready`);
    expect(ready.status).toBe(503);
    expect((await readJson(ready)).issues).toContain('database_unreachable');
    const stored = await withClient((c) => c.query('SELECT count(*)::int AS n FROM router_eventos'));
    expect(stored.rows[0].n).toBe(0);

    proxy.restore();
    // Meta retries the same bytes; the pool reconnects on demand.
    const retry = await router.postWebhook(body);
    expect(retry.status).toBe(200);
    await router.idle();
    const after = await withClient((c) =>
      c.query<{ mensaje: string }>(`SELECT mensaje FROM mensajes WHERE direccion = 'entrante'`),
    );
    expect(after.rows).toEqual([{ mensaje: 'durante el corte' }]);
  });

  it('when the connection drops while events wait to be processed, then they are processed after it returns', async () => {
    const body = inboundEnvelope(textMessage({ body: 'acked before the cut' }));
    const res = await router.postWebhook(body);
    expect(res.status).toBe(200);
    proxy.cut();
    await router.idle();
    proxy.restore();
    // The journal kept the event: whichever way processing went during the cut, it ends stored once.
    await expect
      .poll(
        async () =>
          (
            await withClient((c) =>
              c.query(`SELECT count(*)::int AS n FROM mensajes WHERE mensaje = 'acked before the cut'`),
            )
          ).rows[0].n,
        {
          timeout: 15_000,
          interval: 100,
        },
      )
      .toBe(1);
    await expect
      .poll(
        async () =>
          (await withClient((c) => c.query(`SELECT count(*)::int AS n FROM router_eventos WHERE estado = 'pendiente'`)))
            .rows[0].n,
        {
          timeout: 15_000,
          interval: 100,
        },
      )
      .toBe(0);
  });
});
