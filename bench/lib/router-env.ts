import { SECRET, SIM_TOKEN } from './ramp.js';

/**
 * The environment of a benchmarked router. The reply limits are off: the script's customers ask for
 * the menu again (MENU) within REPLY_REPEAT_SECONDS of the first one, and every scripted reply is
 * counted, as in the fault harness. Meta's upgraded per-number tier (1,000/s, the throughput
 * issue's setting): the bench measures the router, not the default 80/s token bucket.
 */
export function routerEnv(
  databaseUrl: string,
  port: number,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    WHATSAPP_APP_SECRET: SECRET,
    WHATSAPP_ACCESS_TOKEN: SIM_TOKEN,
    WHATSAPP_API_URL: '', // filled per run
    MEDIA_STORAGE: 'off',
    GRAPH_RATE_PER_SECOND: '1000',
    DB_POOL_MAX: '16',
    REPLY_REPEAT_SECONDS: '0',
    REPLY_FLOOD_MESSAGES: '0',
    ...extra,
  };
}
