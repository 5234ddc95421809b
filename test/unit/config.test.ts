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

/** A random-looking value production accepts, distinct per key. */
const STRONG = (seed: string) => `${seed}-7f3a9c0e5b1d8246a0c4e9f7`.padEnd(40, 'k');
const PRODUCTION = {
  NODE_ENV: 'production',
  WHATSAPP_APP_SECRET: STRONG('app'),
  WHATSAPP_VERIFY_TOKEN: STRONG('verify'),
};

describe('config', () => {
  it('when nothing is set, then the embedded defaults apply', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      PORT: 3002,
      QUEUE_MODE: 'off',
      DATA_DIR: './data',
      WHATSAPP_APP_SECRET: [],
      WHATSAPP_API_VERSION: 'v25.0',
    });
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
    expect(problemsOf({ ...PRODUCTION, MEDIA_STORAGE: 'off' })).toEqual([]);
    expect(
      problemsOf({ ...PRODUCTION, MEDIA_URL_SECRET: STRONG('media'), MEDIA_PUBLIC_URL: 'https://router.example.com' }),
    ).toEqual([]);
  });

  it('when the flows clock is shifted, then outside production it is taken and in production it is refused', () => {
    expect(parseConfig({ ROUTER_CLOCK_OFFSET_MS: '-3600000' }).ROUTER_CLOCK_OFFSET_MS).toBe(-3_600_000);
    expect(problemsOf({ ...PRODUCTION, MEDIA_STORAGE: 'off', ROUTER_CLOCK_OFFSET_MS: '60000' })).toEqual([
      'ROUTER_CLOCK_OFFSET_MS: must be 0 when NODE_ENV=production',
    ]);
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

describe('production secrets', () => {
  const SECRET_KEYS = [
    'WHATSAPP_APP_SECRET',
    'WHATSAPP_VERIFY_TOKEN',
    'WHATSAPP_ACCESS_TOKEN',
    'INBOX_WEBHOOK_SECRET',
    'MEDIA_URL_SECRET',
    'SUPABASE_SERVICE_ROLE_KEY',
    'ADMIN_TOKEN',
  ];
  const base = { ...PRODUCTION, MEDIA_STORAGE: 'off' };

  it('when .env.example is used as it is with NODE_ENV=production, then every change-me placeholder is refused by its key', async () => {
    const { readFile } = await import('node:fs/promises');
    const { parseEnv } = await import('node:util');
    const example = parseEnv(await readFile(new URL('../../.env.example', import.meta.url), 'utf8'));
    const problems = problemsOf({ ...example, NODE_ENV: 'production', MEDIA_PUBLIC_URL: 'https://router.example.com' });
    expect(problems).toEqual([
      expect.stringMatching(/^WHATSAPP_APP_SECRET: is a placeholder/),
      expect.stringMatching(/^WHATSAPP_VERIFY_TOKEN: is a placeholder/),
      expect.stringMatching(/^INBOX_WEBHOOK_SECRET: is a placeholder/),
      expect.stringMatching(/^MEDIA_URL_SECRET: is a placeholder/),
    ]);
  });

  it.each(SECRET_KEYS)(
    'when %s is one character in production, then startup fails naming it and the 32-character rule',
    (key) => {
      expect(problemsOf({ ...base, [key]: 'x' })).toEqual([
        `${key}: must be at least 32 characters when NODE_ENV=production`,
      ]);
    },
  );

  it.each([
    ['WHATSAPP_APP_SECRET', 'x'],
    ['ADMIN_TOKEN', 'a'],
    ['WHATSAPP_APP_SECRET', `${STRONG('app')},short`],
    ['ADMIN_TOKEN', 'change-me-admin-token-that-is-long-enough'],
    ['INBOX_WEBHOOK_SECRET', 'your-inbox-secret-goes-here-0123456789'],
    ['WHATSAPP_APP_SECRET', 'CHANGEME_0123456789abcdef0123456789abcdef'],
    ['MEDIA_URL_SECRET', 'REPLACE_WITH_A_RANDOM_SECRET_0123456789'],
    ['ADMIN_TOKEN', 'a'.repeat(64)],
    ['WHATSAPP_VERIFY_TOKEN', '12'.repeat(20)],
  ])('when %s=%s in production, then it is refused with the key named and the value not echoed', (key, value) => {
    const problems = problemsOf({ ...base, [key]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${key}: `));
    const secretPart = value.split(',').pop()!;
    if (secretPart.length > 4) expect(problems[0]).not.toContain(secretPart);
  });

  it('when every credential is long and random in production, then nothing is refused', () => {
    const all = Object.fromEntries(SECRET_KEYS.map((k) => [k, STRONG(k.toLowerCase())]));
    expect(problemsOf({ ...base, ...all })).toEqual([]);
  });

  it('when the same short values are used outside production, then they are accepted (tests, trying it out)', () => {
    expect(
      problemsOf({ WHATSAPP_APP_SECRET: 'x', ADMIN_TOKEN: 'a', INBOX_WEBHOOK_SECRET: 'change-me-inbox-secret' }),
    ).toEqual([]);
  });
});

describe('Graph and media URLs', () => {
  it('when WHATSAPP_API_URL is plain http in production, then startup fails naming it', () => {
    expect(problemsOf({ ...PRODUCTION, MEDIA_STORAGE: 'off', WHATSAPP_API_URL: 'HTTPS://graph.facebook.com' })).toEqual(
      [],
    );
    expect(problemsOf({ ...PRODUCTION, MEDIA_STORAGE: 'off', WHATSAPP_API_URL: 'http://graph.facebook.com' })).toEqual([
      'WHATSAPP_API_URL: must be https:// when NODE_ENV=production (the access token travels with every call)',
    ]);
  });

  it('when a loopback http Graph URL is used in production, then only ALLOW_LOCAL_GRAPH_SIMULATOR=true lets it through, and never for another host', () => {
    const local = { ...PRODUCTION, MEDIA_STORAGE: 'off', WHATSAPP_API_URL: 'http://127.0.0.1:4010' };
    expect(problemsOf(local)).toHaveLength(1);
    expect(problemsOf({ ...local, ALLOW_LOCAL_GRAPH_SIMULATOR: 'true' })).toEqual([]);
    expect(
      problemsOf({ ...local, ALLOW_LOCAL_GRAPH_SIMULATOR: 'true', WHATSAPP_API_URL: 'http://graph.example.com' }),
    ).toHaveLength(1);
  });

  it("when nothing is set, then media downloads are limited to Meta's hosts and the router listens on loopback only", () => {
    const c = parseConfig({});
    expect(c.MEDIA_ALLOWED_HOSTS).toEqual(['lookaside.fbsbx.com', '*.fbsbx.com', '*.fbcdn.net']);
    expect(c.ALLOW_LOCAL_GRAPH_SIMULATOR).toBe(false);
    expect(c.HOST).toBe('127.0.0.1');
  });

  it('when MEDIA_ALLOWED_HOSTS holds something that is not a host name, then startup fails naming it', () => {
    expect(problemsOf({ MEDIA_ALLOWED_HOSTS: 'https://evil.example/x' })).toEqual([
      expect.stringMatching(/^MEDIA_ALLOWED_HOSTS\.0: must be host names/),
    ]);
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
