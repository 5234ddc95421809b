import { existsSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_GRAPH_API_VERSION } from './outbound/graph-versions.js';
import { isLoopbackUrl } from './media/media-url-policy.js';
import { SECRET_KEYS, secretProblem } from './secret-rules.js';

/**
 * The router's only reader of process.env (the Graph API simulator, a separate development tool,
 * parses its own SIM_* keys in src/start/simulator.ts). Parsed once at start; a bad value stops the process with the
 * key's name and the rule it broke (see formatConfigError), so a typo never becomes a silent default.
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const csv = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );

/** "5mb", "512kb", "1048576" → bytes. */
const byteSize = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(b|kb|mb)?$/i, 'must be a size such as 5mb, 512kb or a number of bytes')
  .transform((v) => {
    const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb)?$/i.exec(v);
    const n = Number(match?.[1]);
    const unit = (match?.[2] ?? 'b').toLowerCase();
    return Math.floor(n * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1));
  });

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3002),
    // Loopback by default: Nginx on the same machine is the only way in, so its allow-list for
    // /admin and /metrics cannot be bypassed by reaching the port directly.
    HOST: z.string().default('127.0.0.1'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    DATABASE_URL: optionalString.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
        .optional(),
    ),
    DATA_DIR: z.string().default('./data'),
    DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(3_000),
    SEED_DEFAULT_MENU: bool.default(true),
    DB_PREPARED_STATEMENTS: bool.default(true),

    WHATSAPP_APP_SECRET: csv,
    WHATSAPP_VERIFY_TOKEN: optionalString,
    WHATSAPP_ACCESS_TOKEN: optionalString,
    WHATSAPP_API_URL: z.url('must be an http(s) URL').default('https://graph.facebook.com'),
    // Meta retires each Graph API version on a published date; src/outbound/graph-versions.ts has
    // them, and the router warns before the configured one goes (README "Moving Graph API versions").
    WHATSAPP_API_VERSION: z
      .string()
      .regex(/^v\d+\.\d+$/, `must look like ${DEFAULT_GRAPH_API_VERSION}`)
      .default(DEFAULT_GRAPH_API_VERSION),
    WEBHOOK_BODY_LIMIT: byteSize.default(5 * 1024 * 1024),
    // Hosts a media download URL may point at in production (the bearer token goes with it);
    // `*.example.com` matches subdomains. Meta serves Cloud API media from lookaside.fbsbx.com.
    MEDIA_ALLOWED_HOSTS: csv
      .pipe(
        z.array(
          z.string().regex(/^(\*\.)?[a-z0-9.-]+$/i, 'must be host names such as lookaside.fbsbx.com or *.fbcdn.net'),
        ),
      )
      .default(['lookaside.fbsbx.com', '*.fbsbx.com', '*.fbcdn.net']),
    // Production only: let WHATSAPP_API_URL and media downloads be plain http on this machine
    // (127.0.0.1, ::1, localhost) — the Graph simulator of the benchmark and the PM2 test.
    ALLOW_LOCAL_GRAPH_SIMULATOR: bool.default(false),

    QUEUE_MODE: z.enum(['off', 'bullmq']).default('off'),
    REDIS_URL: optionalString.pipe(
      z
        .string()
        .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
        .optional(),
    ),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
    WORKER_METRICS_PORT: optionalString
      .transform((v) => (v === undefined ? undefined : Number(v)))
      .pipe(z.number('must be a port number').int().min(0).max(65535).optional()),
    QUEUE_JOB_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
    QUEUE_JOB_BACKOFF_MS: z.coerce.number().int().min(10).default(1_000),
    QUEUE_ORDER_WAIT_MS: z.coerce.number().int().min(0).default(10_000),
    QUEUE_LOCK_MS: z.coerce.number().int().min(500).default(10_000),
    MAX_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
    // Kept under 64: each conversation of a batch is a subtransaction, and PostgreSQL's per-backend
    // cache of subtransaction ids holds 64 before snapshots of every session get slower.
    CONTEXT_BATCH_MAX: z.coerce.number().int().min(1).max(60).default(16),
    LEASE_MS: z.coerce.number().int().min(1_000).default(30_000),
    SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).default(1_000),
    PROCESS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
    JOURNAL_RETENTION_DAYS: z.coerce.number().int().min(1).default(14),

    MAIN_MENU_ID: z.string().min(1).default('principal'),
    DEFAULT_LINE: z
      .string()
      .regex(/^[a-z0-9_]{1,40}$/, 'must be a CRM line code such as wsp4')
      .default('wsp4'),
    GLOBAL_COMMANDS: csv
      .pipe(z.array(z.string()).min(1, 'needs at least one command'))
      .default(['MENU', 'MENÚ', '0', 'VOLVER', 'ATRAS', 'ATRÁS']),
    REENTRY_HOURS: z.coerce.number().positive().default(24),
    ANTI_LOOP_MINUTES: z.coerce.number().min(0).default(15),
    INBOX_NOTE_COOLDOWN_HOURS: z.coerce.number().min(0).default(24),
    // Reply limits (src/routing/reply-limits.ts). Flood counting sees the context query's 10 recent
    // messages plus the current one, so more than 11 could never trigger.
    REPLY_REPEAT_SECONDS: z.coerce.number().min(0).default(60),
    REPLY_FLOOD_MESSAGES: z.coerce.number().int().min(0).max(11).default(6),
    REPLY_FLOOD_SECONDS: z.coerce.number().positive().default(10),
    TICKET_TIME_ZONE: z
      .string()
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'must be an IANA time zone such as America/Argentina/Buenos_Aires')
      .default('America/Argentina/Buenos_Aires'),
    CATALOG_TTL_MS: z.coerce.number().int().min(0).default(30_000),
    // Tests only: shifts the flows' clock (autoreply bands, cooldown, agent guard). Refused in production.
    ROUTER_CLOCK_OFFSET_MS: z.coerce.number().int().default(0),

    GRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    GRAPH_RATE_PER_SECOND: z.coerce.number().positive().default(80),
    GRAPH_CIRCUIT_THRESHOLD: z.coerce.number().int().min(1).default(5),
    GRAPH_CIRCUIT_OPEN_MS: z.coerce.number().int().min(100).default(10_000),
    OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(10),
    OUTBOX_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(16),
    OUTBOX_POLL_MS: z.coerce.number().int().min(10).default(500),
    OUTBOX_CLAIM_MS: z.coerce.number().int().min(500).default(30_000),
    // Evolution API lines (README "Evolution API lines"): unset URL = dry run for those lines.
    EVOLUTION_API_URL: optionalString.pipe(z.url('must be an http(s) URL').optional()),
    EVOLUTION_API_KEY: optionalString,
    EVOLUTION_SEND_RATE_PER_SECOND: z.coerce.number().positive().max(50).default(1),
    EVOLUTION_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
    INBOX_WEBHOOK_SECRET: optionalString,
    INBOX_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),

    MEDIA_STORAGE: z.enum(['off', 'local', 'supabase']).default('local'),
    // At least 16 characters (checked below; production asks 32 of every secret, secret-rules.ts).
    MEDIA_URL_SECRET: optionalString,
    MEDIA_URL_TTL_S: z.coerce
      .number()
      .int()
      .min(60)
      .default(365 * 24 * 3600),
    MEDIA_LINK_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(20_000),
    MEDIA_PUBLIC_URL: optionalString.pipe(z.url('must be an http(s) URL').optional()),
    SUPABASE_URL: optionalString.pipe(z.url('must be an http(s) URL').optional()),
    SUPABASE_SERVICE_ROLE_KEY: optionalString,
    SUPABASE_STORAGE_BUCKET: optionalString,
    SUPABASE_STORAGE_PUBLIC: bool.default(false),
    MEDIA_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    MEDIA_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
    MEDIA_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
    MEDIA_POLL_MS: z.coerce.number().int().min(10).default(2_000),
    MEDIA_MAX_BYTES_IMAGE: byteSize.default(5 * 1024 * 1024),
    MEDIA_MAX_BYTES_AUDIO: byteSize.default(16 * 1024 * 1024),
    MEDIA_MAX_BYTES_VIDEO: byteSize.default(16 * 1024 * 1024),
    MEDIA_MAX_BYTES_DOCUMENT: byteSize.default(100 * 1024 * 1024),
    MEDIA_MAX_BYTES_STICKER: byteSize.default(500 * 1024),

    ADMIN_TOKEN: optionalString,
    ADMIN_SEND_RATE_PER_SECOND: z.coerce.number().int().min(1).default(20),
    READY_OUTBOX_BACKLOG_S: z.coerce.number().int().min(1).default(300),
  })
  .superRefine((c, ctx) => {
    if (c.QUEUE_MODE === 'bullmq' && !c.REDIS_URL) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'is required when QUEUE_MODE=bullmq' });
    }
    if (c.QUEUE_MODE === 'bullmq' && !c.DATABASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['DATABASE_URL'],
        message:
          'is required when QUEUE_MODE=bullmq (workers in other processes share it; the embedded PGlite is single-process)',
      });
    }
    if (c.MEDIA_STORAGE === 'supabase') {
      for (const key of ['SUPABASE_URL', 'SUPABASE_SERVICE_ROLE_KEY', 'SUPABASE_STORAGE_BUCKET'] as const) {
        if (!c[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required when MEDIA_STORAGE=supabase' });
      }
    }
    if (c.NODE_ENV === 'production' && c.ROUTER_CLOCK_OFFSET_MS !== 0) {
      ctx.addIssue({ code: 'custom', path: ['ROUTER_CLOCK_OFFSET_MS'], message: 'must be 0 when NODE_ENV=production' });
    }
    if (c.NODE_ENV !== 'production') {
      if (c.MEDIA_URL_SECRET !== undefined && c.MEDIA_URL_SECRET.length < 16) {
        ctx.addIssue({ code: 'custom', path: ['MEDIA_URL_SECRET'], message: 'must be at least 16 characters' });
      }
      return;
    }
    for (const key of SECRET_KEYS) {
      const value = c[key];
      const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
      const problem = values.map(secretProblem).find((p) => p !== null);
      if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem });
    }
    if (
      new URL(c.WHATSAPP_API_URL).protocol !== 'https:' &&
      !(c.ALLOW_LOCAL_GRAPH_SIMULATOR && isLoopbackUrl(c.WHATSAPP_API_URL))
    ) {
      // The access token rides on every Graph call: in clear text it is anyone's on the path.
      ctx.addIssue({
        code: 'custom',
        path: ['WHATSAPP_API_URL'],
        message: 'must be https:// when NODE_ENV=production (the access token travels with every call)',
      });
    }
    if (c.WHATSAPP_APP_SECRET.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['WHATSAPP_APP_SECRET'], message: 'is required when NODE_ENV=production' });
    }
    if (!c.WHATSAPP_VERIFY_TOKEN) {
      ctx.addIssue({
        code: 'custom',
        path: ['WHATSAPP_VERIFY_TOKEN'],
        message: 'is required when NODE_ENV=production',
      });
    }
    if (c.MEDIA_STORAGE !== 'off' && !c.MEDIA_PUBLIC_URL) {
      // mensajes.media_url is built on it: a default of 127.0.0.1 would give the CRM's browsers dead links.
      ctx.addIssue({
        code: 'custom',
        path: ['MEDIA_PUBLIC_URL'],
        message: 'is required when NODE_ENV=production and media is kept (e.g. https://router.example.com)',
      });
    }
    if (c.MEDIA_STORAGE === 'local' && !c.MEDIA_URL_SECRET) {
      // Outside production a secret is generated under DATA_DIR (src/media/media-url-secret.ts).
      ctx.addIssue({
        code: 'custom',
        path: ['MEDIA_URL_SECRET'],
        message: 'is required when MEDIA_STORAGE=local and NODE_ENV=production',
      });
    }
  });

export type Config = Readonly<z.output<typeof schema>>;

/** Every environment key the router reads (documented one by one in .env.example). */
export const CONFIG_KEYS: readonly string[] = Object.keys(schema.shape);

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an env-like record; throws ConfigError naming every bad key and its rule. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(problems);
  }
  return Object.freeze(result.data);
}

/**
 * Loads `.env` from the working directory when present (Node's own loader; real environment
 * variables win), then parses. Used by the entry points only.
 */
export function loadConfig(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return parseConfig(process.env);
}

/**
 * True when PM2 started this process: PM2 sets `pm_id` in the environment of every process it
 * starts. Not a setting (nobody writes it in .env); it decides whether PM2's metrics and actions
 * channel (observability/pm2-channel.ts) is spoken on the IPC pipe.
 */
export function supervisedByPm2(): boolean {
  return process.env['pm_id'] !== undefined;
}
