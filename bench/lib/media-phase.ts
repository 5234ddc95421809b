import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signBody } from '../../src/webhook/verify-signature.js';
import { imageMessage, inboundEnvelope } from '../../test/fixtures/whatsapp/builders.js';
import { freePort } from '../../test/helpers/start-router.js';
import { freshBenchDatabase, withBenchClient } from './bench-db.js';
import { startNode } from './processes.js';
import { SECRET, runStep, startOutside, type StepResult } from './ramp.js';

/**
 * Media isolation: the same text load twice, once alone and once while 100 large media downloads
 * are in flight. If downloads shared the routing path, text latency would rise; it must not.
 */
export async function mediaIsolation(
  env: (url: string, port: number) => Record<string, string>,
  rate: number,
  seconds: number,
) {
  const databaseUrl = await freshBenchDatabase();
  const port = await freePort();
  const outside = await startOutside(port);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'psi-bench-media-'));
  const api = await startNode('api', {
    ...env(databaseUrl, port),
    WHATSAPP_API_URL: outside.sim.url,
    MEDIA_STORAGE: 'local',
    MEDIA_PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
  });
  const limits = { ackP99: 1e9, e2eP99: 1e9, drainMs: 60_000 };
  try {
    const alone: StepResult = await runStep({
      rate,
      seconds,
      ackPort: port,
      outside,
      metered: [{ port, proc: api }],
      phonePrefix: '5491140',
      limits,
    });
    // 100 images of 4 MiB each, posted at once by 100 customers.
    const media = Array.from({ length: 100 }, () =>
      outside.sim.addMedia({ bytes: randomBytes(4 * 1024 * 1024), mimeType: 'image/jpeg' }),
    );
    await Promise.all(
      media.map(async (m, i) => {
        const body = Buffer.from(
          JSON.stringify(
            inboundEnvelope(
              imageMessage({ from: `5491141${String(i).padStart(6, '0')}`, mediaId: m.id, sha256: m.sha256 }),
            ),
          ),
        );
        await fetch(`http://127.0.0.1:${port}/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, SECRET) },
          body,
        });
      }),
    );
    const inFlightAtStart = await pendingMedia();
    const during: StepResult = await runStep({
      rate,
      seconds,
      ackPort: port,
      outside,
      metered: [{ port, proc: api }],
      phonePrefix: '5491142',
      limits,
    });
    // Wait for the downloads to finish, to report how long 400 MiB took beside the text load.
    const t0 = performance.now();
    while ((await pendingMedia()) > 0 && performance.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 200));
    const done = await withBenchClient(
      async (c) =>
        (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM router_media_jobs WHERE estado = 'hecho'`))
          .rows[0]!.n,
    );
    return {
      rate,
      alone,
      during,
      mediaInFlightAtStart: inFlightAtStart,
      mediaDownloaded: done,
      servedBySimulator: outside.sim.mediaCounters.served,
    };
  } finally {
    await api.stop();
    await outside.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function pendingMedia(): Promise<number> {
  return withBenchClient(
    async (c) =>
      (
        await c.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM router_media_jobs WHERE estado IN ('pendiente', 'descargando')`,
        )
      ).rows[0]!.n,
  );
}
