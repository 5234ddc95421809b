import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The promtool checks (ops-files.test.ts) and the Chromium sandbox test (sandbox.test.ts) need Debian
 * packages: on a machine without them `npm test` still passes and says why they were skipped, but
 * under CI=true (.ci/run) they never skip. Each file is run by a nested vitest whose PATH has node only.
 */
describe('the promtool and Chromium suites on a machine without them', () => {
  const bin = mkdtempSync(path.join(tmpdir(), 'psi-no-tools-'));
  symlinkSync(process.execPath, path.join(bin, 'node'));
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  const runFile = (file: string, ci: string | undefined) => {
    const env: Record<string, string | undefined> = { ...process.env, PATH: bin, CI: ci };
    if (ci === undefined) delete env['CI'];
    return spawnSync(
      process.execPath,
      [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'vitest.integration.config.mts', file],
      { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 },
    );
  };

  it.each([
    ['test/integration/ops-files.test.ts', 'promtool checks skipped: promtool not found on PATH', /2 skipped/],
    ['test/integration/sandbox.test.ts', 'sandbox browser test skipped: chromium not found on PATH', /1 skipped/],
  ])('when CI is not set, then %s skips what needs the tool, says why, and passes', (file, reason, skipped) => {
    const run = runFile(file, undefined);
    expect(run.stdout + run.stderr).toContain(reason);
    expect(run.stdout).toMatch(skipped);
    expect(run.status).toBe(0);
  });

  it.each([
    ['test/integration/ops-files.test.ts', 'CI=true, but promtool is not installed'],
    ['test/integration/sandbox.test.ts', 'CI=true, but chromium is not installed'],
  ])('when CI=true, then %s does not skip: without the tool it fails and says what installs it', (file, message) => {
    const run = runFile(file, 'true');
    expect(run.stdout + run.stderr).toContain(message);
    expect(run.status).not.toBe(0);
  });
});
