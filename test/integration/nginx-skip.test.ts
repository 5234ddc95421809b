import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Issue 11 item 23: `npm test` must pass on a fresh machine without nginx, yet CI must never skip
 * the nginx suite. The suite is run by a nested vitest whose PATH has node and openssl but no nginx.
 */
describe('the nginx suite on a machine without nginx', () => {
  const bin = mkdtempSync(path.join(tmpdir(), 'psi-no-nginx-'));
  symlinkSync(process.execPath, path.join(bin, 'node'));
  const openssl = spawnSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' }).stdout.trim();
  if (openssl) symlinkSync(openssl, path.join(bin, 'openssl'));
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  const runSuite = (ci: string | undefined) => {
    const env: Record<string, string | undefined> = { ...process.env, PATH: bin, CI: ci };
    if (ci === undefined) delete env['CI'];
    return spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--config',
        'vitest.integration.config.mts',
        'test/integration/nginx.test.ts',
      ],
      {
        cwd: ROOT,
        env,
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
  };

  it('when CI is not set, then the suite is skipped with its reason shown and the run passes', () => {
    const run = runSuite(undefined);
    expect(run.status).toBe(0);
    expect(run.stdout + run.stderr).toContain('nginx suite skipped: nginx not found on PATH');
    expect(run.stdout).toMatch(/7 skipped/);
  });

  it('when CI=true, then the suite is not skipped: without nginx it fails and says what to install', () => {
    const run = runSuite('true');
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toContain('CI=true, but nginx is not installed');
  });
});
