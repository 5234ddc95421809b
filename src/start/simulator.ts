/**
 * `npm run simulator`: a local Graph API to point WHATSAPP_API_URL at, and a local Evolution API
 * (EVOLUTION_API_URL) beside it. Reads SIM_* variables only
 * (it is a dev tool, not part of the router's config), prints one JSON line with its URL, and stops
 * on SIGINT/SIGTERM. Scripted failures and the down switch are driven through /__sim/*.
 */
import { z } from 'zod';
import { DEFAULT_GRAPH_API_VERSION } from '../outbound/graph-versions.js';
import { startGraphSimulator, type GraphSimulatorOptions } from '../simulator/graph-simulator.js';
import { startEvolutionSimulator } from '../simulator/evolution/evolution-simulator.js';

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const schema = z
  .object({
    SIM_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
    SIM_HOST: z.string().min(1).default('127.0.0.1'),
    SIM_ACCESS_TOKEN: z.string().min(1).default('sim-token'),
    SIM_VERSION: optional.pipe(
      z
        .string()
        .regex(/^v\d+\.\d+$/, `must look like ${DEFAULT_GRAPH_API_VERSION}`)
        .optional(),
    ),
    SIM_STATUS_WEBHOOK_URL: optional.pipe(z.url('must be an http(s) URL').optional()),
    SIM_APP_SECRET: optional,
    SIM_STATUS_DELAY_MS: z.coerce.number().int().min(0).default(0),
    SIM_LATENCY_MS: z.coerce.number().int().min(0).default(0),
    SIM_MAX_RECORDED: z.coerce.number().int().min(1).optional(),
    // The Evolution API simulator beside it (set SIM_EVOLUTION_PORT=-1 to leave it out).
    SIM_EVOLUTION_PORT: z.coerce.number().int().min(-1).max(65535).default(4020),
    SIM_EVOLUTION_API_KEY: z.string().min(1).default('sim-evolution-key'),
    // The router's /webhook/evolution: acks and POST /__sim/webhook messages go there (line from `instance`).
    SIM_EVOLUTION_WEBHOOK_URL: optional.pipe(z.url('must be an http(s) URL').optional()),
    // One secret for every instance, or instance=secret pairs separated by commas.
    SIM_EVOLUTION_WEBHOOK_SECRET: optional,
    SIM_MEDIA_URL_TTL_MS: z.coerce
      .number()
      .int()
      .min(1)
      .default(5 * 60_000),
  })
  .superRefine((c, ctx) => {
    if (c.SIM_STATUS_WEBHOOK_URL && !c.SIM_APP_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['SIM_APP_SECRET'],
        message: 'is required with SIM_STATUS_WEBHOOK_URL (webhooks are signed)',
      });
    }
  });

async function main(): Promise<void> {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    process.stderr.write(`${JSON.stringify({ simulator: 'graph', error: 'invalid configuration', problems })}\n`);
    process.exit(78); // EX_CONFIG, as the router does
  }
  const env = parsed.data;
  const options: GraphSimulatorOptions = {
    port: env.SIM_PORT,
    host: env.SIM_HOST,
    accessToken: env.SIM_ACCESS_TOKEN,
    latencyMs: env.SIM_LATENCY_MS,
    mediaUrlTtlMs: env.SIM_MEDIA_URL_TTL_MS,
    ...(env.SIM_VERSION ? { version: env.SIM_VERSION } : {}),
    ...(env.SIM_MAX_RECORDED ? { maxRecorded: env.SIM_MAX_RECORDED } : {}),
    ...(env.SIM_STATUS_WEBHOOK_URL && env.SIM_APP_SECRET
      ? {
          statusWebhook: {
            url: env.SIM_STATUS_WEBHOOK_URL,
            appSecret: env.SIM_APP_SECRET,
            delayMs: env.SIM_STATUS_DELAY_MS,
          },
        }
      : {}),
  };
  const sim = await startGraphSimulator(options);
  const evolution =
    env.SIM_EVOLUTION_PORT >= 0
      ? await startEvolutionSimulator({
          apiKey: env.SIM_EVOLUTION_API_KEY,
          host: env.SIM_HOST,
          port: env.SIM_EVOLUTION_PORT,
          ...(env.SIM_EVOLUTION_WEBHOOK_URL
            ? {
                webhook: {
                  url: () => env.SIM_EVOLUTION_WEBHOOK_URL!,
                  secret: secretsByInstance(env.SIM_EVOLUTION_WEBHOOK_SECRET ?? ''),
                },
              }
            : {}),
        })
      : null;
  process.stdout.write(
    `${JSON.stringify({
      simulator: 'graph',
      url: sim.url,
      version: env.SIM_VERSION ?? 'any vN.N',
      statusWebhook: env.SIM_STATUS_WEBHOOK_URL ?? null,
      latencyMs: env.SIM_LATENCY_MS,
      control: `${sim.url}/__sim/stats`,
      media: `POST ${sim.url}/__sim/media (body = file bytes, content-type = its mime type)`,
    })}\n`,
  );
  if (evolution) {
    process.stdout.write(
      `${JSON.stringify({
        simulator: 'evolution',
        url: evolution.url,
        apikey: env.SIM_EVOLUTION_API_KEY,
        webhook: env.SIM_EVOLUTION_WEBHOOK_URL ?? null,
        control: `${evolution.url}/__sim/sent, /__sim/script, /__sim/disconnect/<instance>, /__sim/webhook`,
      })}\n`,
    );
  }

  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1); // second signal: leave now
    stopping = true;
    Promise.all([sim.close(), evolution?.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** "secret" for every instance, or "inst1=secret1,inst2=secret2". */
function secretsByInstance(spec: string): (instance: string) => string {
  const pairs = new Map(
    spec
      .split(',')
      .filter((p) => p.includes('='))
      .map((p) => [p.slice(0, p.indexOf('=')).trim(), p.slice(p.indexOf('=') + 1).trim()] as const),
  );
  return (instance) => pairs.get(instance) ?? (pairs.size === 0 ? spec : '');
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ simulator: 'graph', error: (err as Error)?.message ?? String(err) })}\n`);
  process.exit(1);
});
