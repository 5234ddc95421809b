import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateTestDatabase, resetDatabase, withClient } from '../helpers/reset-db.js';
import { spawnRouter } from '../helpers/spawn-router.js';
import { TEST_APP_SECRET, TEST_DATABASE_URL, TEST_VERIFY_TOKEN } from '../helpers/test-config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs the real entry point until it exits by itself; resolves with its exit code and JSON log lines. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; logs: Record<string, unknown>[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/start/api.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_LEVEL: 'info',
      PORT: '0',
      HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      const logs = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, logs });
    });
  });
}

/** A production environment that passes every check (the router's third parties are not needed to start). */
const STRONG = {
  NODE_ENV: 'production',
  DATABASE_URL: TEST_DATABASE_URL,
  WHATSAPP_APP_SECRET: TEST_APP_SECRET,
  WHATSAPP_VERIFY_TOKEN: TEST_VERIFY_TOKEN,
  MEDIA_STORAGE: 'off',
  MEDIA_URL_SECRET: 'media-url-secret-1f7c3a9e0b5d2864',
};

describe('production start refuses weak secrets', () => {
  beforeAll(async () => {
    await resetDatabase();
    await migrateTestDatabase();
  });
  afterAll(async () => {
    await withClient((c) => c.query('UPDATE router_areas SET inbox_webhook_url = NULL'));
  });

  it.each([
    ['WHATSAPP_APP_SECRET', 'change-me-app-secret'],
    ['WHATSAPP_APP_SECRET', 'x'],
    ['ADMIN_TOKEN', 'a'],
    ['INBOX_WEBHOOK_SECRET', 'change-me-inbox-secret'],
  ])('when %s=%s with NODE_ENV=production, then the process exits 78 naming the key', async (key, value) => {
    const { code, logs } = await runToExit({ ...STRONG, [key]: value });
    expect(code).toBe(78);
    const fatal = logs.find((l) => l['msg'] === 'invalid configuration; refusing to start');
    expect(fatal).toMatchObject({ level: 'fatal', code: 'CONFIG_INVALID' });
    expect((fatal!['problems'] as string[]).some((p) => p.startsWith(`${key}: `))).toBe(true);
    expect(JSON.stringify(logs)).not.toContain(value.length > 4 ? value : '\u0000');
  });

  it('when an area has an inbox URL and INBOX_WEBHOOK_SECRET is unset in production, then the start fails with INBOX_SECRET_MISSING; with the secret it starts', async () => {
    await withClient((c) =>
      c.query(
        `UPDATE router_areas SET inbox_webhook_url = 'https://n8n.example.com/webhook/ventas' WHERE id = 'ventas'`,
      ),
    );
    const { code, logs } = await runToExit(STRONG);
    expect(code).not.toBe(0);
    const fatal = logs.find((l) => l['msg'] === 'startup failed');
    expect(fatal).toMatchObject({
      level: 'fatal',
      err: {
        code: 'INBOX_SECRET_MISSING',
        message: expect.stringMatching(/^INBOX_WEBHOOK_SECRET: is required .*ventas/),
      },
    });

    const admin = 'admin-token-3c9e1f7a5b2d8460e1f3a7c9';
    const router = await spawnRouter({
      ...STRONG,
      INBOX_WEBHOOK_SECRET: 'inbox-secret-6d0b9e2f4a1c7358e0f2',
      ADMIN_TOKEN: admin,
    });
    // The flows' clock switch is for tests: production has none.
    const clock = await fetch(`${router.url}/admin/clock`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ offsetMs: 3_600_000 }),
    });
    expect(clock.status).toBe(404);
    await router.stop();
    expect(router.logs.some((l) => l['msg'] === 'psi-router listening')).toBe(true);
  });
});
