import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../src/outbound/rate-limiter.js';

describe('RateLimiter', () => {
  it('when more than the rate is requested at once, then the first second goes through and the rest waits for tokens', async () => {
    const limiter = new RateLimiter(20);
    const started = performance.now();
    const stamps: number[] = [];
    await Promise.all(Array.from({ length: 30 }, () => limiter.take('line-a').then(() => stamps.push(performance.now() - started))));
    stamps.sort((a, b) => a - b);
    expect(stamps[19]!).toBeLessThan(300); // the initial bucket, no token wait
    expect(stamps[29]!).toBeGreaterThanOrEqual(450); // 10 more tokens at 20/s
  });

  it('when two numbers send, then each has its own bucket', async () => {
    const limiter = new RateLimiter(5);
    const started = performance.now();
    await Promise.all([...Array(5)].flatMap(() => [limiter.take('a'), limiter.take('b')]));
    expect(performance.now() - started).toBeLessThan(300);
  });
});
