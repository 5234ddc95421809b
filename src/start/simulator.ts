/**
 * `npm run simulator`: a local Graph API to point WHATSAPP_API_URL at. Reads SIM_* variables only
 * (it is a dev tool, not part of the router's config), prints one JSON line with its URL, and stops
 * on SIGINT/SIGTERM. Scripted failures and the down switch are driven through /__sim/*.
 */
import { z } from 'zod';
import { DEFAULT_GRAPH_API_VERSION } from '../outbound/graph-versions.js';
import { startGraphSimulator, type GraphSimulatorOptions } from '../simulator/graph-simulator.js';

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

  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1); // second signal: leave now
    stopping = true;
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ simulator: 'graph', error: (err as Error)?.message ?? String(err) })}\n`);
  process.exit(1);
});
