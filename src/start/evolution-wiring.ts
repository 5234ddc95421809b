import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { EvolutionClient } from '../outbound/evolution-client.js';
import { EvolutionTransport } from '../outbound/evolution-transport.js';
import type { Db } from '../store/db.js';
import { disconnectedEvolutionLines } from '../store/evolution-line-repository.js';

/** The outbox's Evolution transport; without EVOLUTION_API_URL it runs dry (logs, sends nothing). */
export function createEvolutionTransport(config: Config, db: Db, log: Logger): EvolutionTransport {
  return new EvolutionTransport(
    db,
    {
      client: config.EVOLUTION_API_URL
        ? new EvolutionClient(config.EVOLUTION_API_URL, config.EVOLUTION_TIMEOUT_MS)
        : null,
      globalApiKey: config.EVOLUTION_API_KEY ?? null,
      defaultRatePerSecond: config.EVOLUTION_SEND_RATE_PER_SECOND,
      circuitThreshold: config.GRAPH_CIRCUIT_THRESHOLD,
      circuitOpenMs: config.GRAPH_CIRCUIT_OPEN_MS,
      linesTtlMs: config.CATALOG_TTL_MS,
    },
    log.child({ module: 'evolution-sender' }),
  );
}

/**
 * /ready issues of Evolution lines: `evolution_disconnected:<line>` while an instance's last
 * connection.update said it is not open, `evolution_circuit_open:<line>` while its sends keep failing.
 */
export function evolutionReadiness(db: Db, transport: EvolutionTransport): (() => Promise<string[]>)[] {
  return [
    async () =>
      ((await disconnectedEvolutionLines(db).catch(() => [])) as string[]).map((c) => `evolution_disconnected:${c}`),
    async () => transport.openCircuits().map((c) => `evolution_circuit_open:${c}`),
  ];
}
