import { parseConfig, type Config } from '../../src/config.js';

/** The real PostgreSQL every integration test runs against (CI starts it; see .ci/run). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/**
 * TEST_DATABASE_URL with its host and port replaced (a tcp-proxy.ts the test can cut in front of
 * it): same database, user and options, so the router and the test's own eyes see the same data.
 */
export function viaPort(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

/** Host and port of a redis:// or postgres:// URL (the target of a tcp-proxy.ts). */
export function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) };
}

// Long enough for NODE_ENV=production (32+ characters), so tests that start production processes
// (PM2, production start checks) sign with the same secret as everything else.
export const TEST_APP_SECRET = 'test-app-secret-5e1f0a9c3b7d2846';
export const TEST_VERIFY_TOKEN = 'test-verify-token-8b2d4f6a0c1e3957';

export function testConfig(overrides: Record<string, string | undefined> = {}): Config {
  return parseConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: TEST_DATABASE_URL,
    WHATSAPP_APP_SECRET: TEST_APP_SECRET,
    WHATSAPP_VERIFY_TOKEN: TEST_VERIFY_TOKEN,
    SWEEP_INTERVAL_MS: '200',
    // Set, so routers under test never generate a secret file under ./data.
    MEDIA_URL_SECRET: 'test-media-url-secret',
    LEASE_MS: '5000',
    ...overrides,
  });
}
