import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { readJson, startRouter, type RunningRouter } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

/**
 * Issue 11 item 7, with a disk that is really full: the embedded database lives on a 128 MB tmpfs
 * and a filler file takes the rest. Mounting needs root; elsewhere the suite is skipped and says why
 * (the mapping itself is also covered by test/unit/store/pg-errors.test.ts).
 */
const mountPoint = mkdtempSync(path.join(tmpdir(), 'psi-router-diskfull-'));
let mounted = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128m', 'tmpfs', mountPoint], { stdio: 'pipe' });
  mounted = true;
} catch (err) {
  console.warn(
    `disk-full suite skipped: cannot mount a tmpfs at ${mountPoint} (${(err as Error).message.split('\n')[0]}); it needs root`,
  );
}

/** Writes zeros until the filesystem refuses (ENOSPC). */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(1024 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

/** A batch big enough (~60 KB of random text: TOAST cannot shrink it) that the journal must grow its files. */
const bigBatch = (t: number) =>
  inboundEnvelope(
    Array.from({ length: 20 }, (_, i) =>
      textMessage({ body: randomBytes(2_250).toString('base64'), timestamp: t + i }),
    ),
  );

describe.skipIf(!mounted)('embedded database on a full disk', () => {
  let router: RunningRouter;
  const filler = path.join(mountPoint, 'filler');

  beforeAll(async () => {
    router = await startRouter(
      testConfig({ DATABASE_URL: undefined, DATA_DIR: path.join(mountPoint, 'data'), MEDIA_STORAGE: 'off' }),
    );
  });
  afterAll(async () => {
    await router?.stop();
    if (mounted) execFileSync('umount', [mountPoint]);
    rmdirSync(mountPoint);
  });

  it('when the disk is full, then a batch gets 503 with Retry-After (not 500), /ready names database_disk_full, and once space returns the redelivery is stored', async () => {
    const t = Math.floor(Date.now() / 1000) - 3_600;
    expect((await router.postWebhook(inboundEnvelope(textMessage({ body: 'antes', timestamp: t })))).status).toBe(200);
    fillDisk(filler);

    const body = bigBatch(t + 1);
    const res = await router.postWebhook(body);
    expect(res.status).toBe(503); // Meta retries a 503 for days; a 500 it would also retry, but alerts nobody
    expect(res.headers.get('retry-after')).toBe('5');
    expect((await readJson(res)).error.code).toBe('STORE_UNAVAILABLE');
    const ready = await fetch(`${router.url}/ready`);
    expect(ready.status).toBe(503);
    const issues = (await readJson(ready)).issues;
    expect(issues).toContain('database_disk_full');
    expect(issues).not.toContain('database_unreachable'); // it still reads: the problem is space

    rmSync(filler);
    const retry = await router.postWebhook(body);
    expect(retry.status).toBe(200);
    expect(await readJson(retry)).toMatchObject({ received: 20, stored: 20 });
    // The issue clears by itself once space is back (the embedded engine reads its free space).
    await expect
      .poll(async () => (await readJson(await fetch(`${router.url}/ready`))).issues, { timeout: 15_000, interval: 200 })
      .not.toContain('database_disk_full');
  });
});
