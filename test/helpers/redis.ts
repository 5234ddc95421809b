import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A Redis logical database of its own for a test file (db 1–15, chosen by the file), flushed at
 * start, so queue state never leaks between files or from a developer's own queues in db 0.
 */
export async function freshRedisDb(db: number): Promise<string> {
  const url = `${TEST_REDIS_URL}/${db}`;
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    await client.flushdb();
  } finally {
    client.disconnect();
  }
  return url;
}

export const uniqueSuffix = () => randomUUID().slice(0, 8);
