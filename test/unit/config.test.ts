import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

const problemsOf = (env: Record<string, string>) => {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('config', () => {
  it('when nothing is set, then the embedded defaults apply', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({ PORT: 3002, QUEUE_MODE: 'off', DATA_DIR: './data', WHATSAPP_APP_SECRET: [], WHATSAPP_API_VERSION: 'v25.0' });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('when several app secrets are given comma separated, then all are kept trimmed', () => {
    expect(parseConfig({ WHATSAPP_APP_SECRET: ' a , b,,c ' }).WHATSAPP_APP_SECRET).toEqual(['a', 'b', 'c']);
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT: /],
    [{ PORT: '70000' }, /^PORT: /],
    [{ QUEUE_MODE: 'kafka' }, /^QUEUE_MODE: /],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: must be a postgres/],
    [{ WHATSAPP_API_URL: 'not a url' }, /^WHATSAPP_API_URL: /],
    [{ WHATSAPP_API_VERSION: '21' }, /^WHATSAPP_API_VERSION: must look like v25.0/],
    [{ WEBHOOK_BODY_LIMIT: 'lots' }, /^WEBHOOK_BODY_LIMIT: must be a size/],
    [{ MAX_CONCURRENCY: '0' }, /^MAX_CONCURRENCY: /],
    [{ MEDIA_STORAGE: 's3' }, /^MEDIA_STORAGE: /],
    [{ MEDIA_MAX_BYTES_VIDEO: 'huge' }, /^MEDIA_MAX_BYTES_VIDEO: must be a size/],
    [{ MEDIA_URL_SECRET: 'short' }, /^MEDIA_URL_SECRET: must be at least 16 characters/],
  ])('when %o is given, then startup fails naming the key and the rule', (env, pattern) => {
    const problems = problemsOf(env as Record<string, string>);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(pattern);
  });

  it('when NODE_ENV=production lacks the app secret, verify token, media origin and media link secret, then all are reported', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems).toEqual([
      'WHATSAPP_APP_SECRET: is required when NODE_ENV=production',
      'WHATSAPP_VERIFY_TOKEN: is required when NODE_ENV=production',
      'MEDIA_PUBLIC_URL: is required when NODE_ENV=production and media is kept (e.g. https://router.example.com)',
      'MEDIA_URL_SECRET: is required when MEDIA_STORAGE=local and NODE_ENV=production',
    ]);
  });

  it('when production keeps media elsewhere than the local disk, then no media link secret is needed', () => {
    const base = { NODE_ENV: 'production', WHATSAPP_APP_SECRET: 's', WHATSAPP_VERIFY_TOKEN: 'v' };
    expect(problemsOf({ ...base, MEDIA_STORAGE: 'off' })).toEqual([]);
    expect(problemsOf({ ...base, MEDIA_URL_SECRET: 'a-long-enough-secret', MEDIA_PUBLIC_URL: 'https://router.example.com' })).toEqual([]);
  });

  it('when MEDIA_STORAGE=supabase lacks its settings, then each missing key is named', () => {
    expect(problemsOf({ MEDIA_STORAGE: 'supabase' })).toEqual([
      'SUPABASE_URL: is required when MEDIA_STORAGE=supabase',
      'SUPABASE_SERVICE_ROLE_KEY: is required when MEDIA_STORAGE=supabase',
      'SUPABASE_STORAGE_BUCKET: is required when MEDIA_STORAGE=supabase',
    ]);
  });

  it("when nothing about media is set, then Meta's per-type limits are the defaults", () => {
    expect(parseConfig({})).toMatchObject({
      MEDIA_STORAGE: 'local',
      MEDIA_MAX_BYTES_IMAGE: 5 * 1024 * 1024,
      MEDIA_MAX_BYTES_AUDIO: 16 * 1024 * 1024,
      MEDIA_MAX_BYTES_VIDEO: 16 * 1024 * 1024,
      MEDIA_MAX_BYTES_DOCUMENT: 100 * 1024 * 1024,
      MEDIA_MAX_BYTES_STICKER: 500 * 1024,
      SUPABASE_STORAGE_PUBLIC: false,
    });
  });

  it('when a body limit has a unit, then it is converted to bytes', () => {
    expect(parseConfig({ WEBHOOK_BODY_LIMIT: '5mb' }).WEBHOOK_BODY_LIMIT).toBe(5 * 1024 * 1024);
    expect(parseConfig({ WEBHOOK_BODY_LIMIT: '512kb' }).WEBHOOK_BODY_LIMIT).toBe(512 * 1024);
  });
});

describe('.env.example', () => {
  it('when the config schema has a key, then .env.example documents it with a comment above', async () => {
    const { readFile } = await import('node:fs/promises');
    const { CONFIG_KEYS } = await import('../../src/config.js');
    const lines = (await readFile(new URL('../../.env.example', import.meta.url), 'utf8')).split('\n');
    const missing = CONFIG_KEYS.filter((key) => {
      const i = lines.findIndex((l) => l.startsWith(`${key}=`));
      return i < 1 || !lines[i - 1]!.startsWith('#');
    });
    expect(missing).toEqual([]);
  });
});
