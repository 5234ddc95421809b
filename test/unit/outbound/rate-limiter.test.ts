import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../../../src/outbound/rate-limiter.js';

/**
 * On a fake clock (timers and Date move only when the test says), so the counts at each instant are
 * exact: a limiter that lets one send too many, or holds one too long, fails whatever the machine's load.
 */
describe('RateLimiter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Starts `n` takes on `key` and returns a live count of those that went through. */
  function takeMany(limiter: RateLimiter, key: string, n: number): () => number {
    let through = 0;
    for (let i = 0; i < n; i++) void limiter.take(key).then(() => (through += 1));
    return () => through;
  }

  it('when more than the rate is requested at once, then a second’s worth goes through at once and the rest one token at a time', async () => {
    const limiter = new RateLimiter(20, () => Date.now());
    const through = takeMany(limiter, 'line-a', 30);
    await vi.advanceTimersByTimeAsync(0);
    expect(through()).toBe(20); // the initial bucket, no token wait
    await vi.advanceTimersByTimeAsync(249);
    expect(through()).toBe(24); // a token every 50 ms at 20/s
    await vi.advanceTimersByTimeAsync(1);
    expect(through()).toBe(25);
    await vi.advanceTimersByTimeAsync(249);
    expect(through()).toBe(29);
    await vi.advanceTimersByTimeAsync(1);
    expect(through()).toBe(30);
  });

  it('when two numbers send, then each has its own bucket: one number waiting does not hold the other', async () => {
    const limiter = new RateLimiter(5, () => Date.now());
    const a = takeMany(limiter, 'a', 6);
    const b = takeMany(limiter, 'b', 5);
    await vi.advanceTimersByTimeAsync(0);
    expect([a(), b()]).toEqual([5, 5]); // b's five are not behind a's sixth
    await vi.advanceTimersByTimeAsync(199);
    expect(a()).toBe(5);
    await vi.advanceTimersByTimeAsync(1);
    expect(a()).toBe(6); // 200 ms for a token at 5/s
  });
});
