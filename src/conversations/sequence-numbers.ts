import type { Redis } from 'ioredis';

/**
 * Per-conversation sequence numbers, assigned on the queue-mode ack path in one Redis round trip.
 * A number is tied to the event key (a hash per conversation), so Meta's redelivery of the same
 * wamid gets the same number and leaves no gap. Keys expire after a week of silence; a reset
 * counter only weakens the order check until it catches up (see migrations/0005-queue-order.sql).
 * Keys are built inside the script, which suits a single Redis (not Redis Cluster).
 */
const SCRIPT = `
local ttl = tonumber(ARGV[1])
local out = {}
for i = 2, #ARGV, 2 do
  local ids = 'psi:seq:ids:' .. ARGV[i]
  local counter = 'psi:seq:n:' .. ARGV[i]
  local s = redis.call('HGET', ids, ARGV[i + 1])
  if not s then
    s = redis.call('INCR', counter)
    redis.call('HSET', ids, ARGV[i + 1], s)
  end
  redis.call('EXPIRE', ids, ttl)
  redis.call('EXPIRE', counter, ttl)
  out[#out + 1] = tonumber(s)
end
return out`;

const TTL_SECONDS = 7 * 24 * 3600;

export async function assignSequenceNumbers(
  redis: Redis,
  items: readonly { convKey: string; eventKey: string }[],
): Promise<number[]> {
  if (items.length === 0) return [];
  const args = [String(TTL_SECONDS), ...items.flatMap((i) => [i.convKey, i.eventKey])];
  const result = (await redis.eval(SCRIPT, 0, ...args)) as number[];
  return result.map(Number);
}
