import { Redis, type RedisOptions } from 'ioredis';

// The only module that loads ioredis' code: a router without REDIS_URL never imports it
// (src/start/queue-parts.ts), which keeps about 26 MB of BullMQ and ioredis out of its memory.

/**
 * Producer connection (webhook ack path): no offline queue and one try per command, so a Redis outage
 * surfaces at once as a 503 to Meta instead of a request hanging on a reconnect.
 */
export function producerConnection(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    lazyConnect: false,
  } satisfies RedisOptions);
}

/** Worker connection: blocking commands must wait through reconnects (BullMQ requires null here). */
export function workerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectTimeout: 5_000 });
}

/** Dead letters' connection: opened only when an operator looks at failed jobs. */
export function adminConnection(url: string): Redis {
  return new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: true });
}
