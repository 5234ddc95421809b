/**
 * Token bucket per sending number: Meta allows each phone number a throughput (80 messages/s by
 * default for Cloud API). `take()` resolves when a token is available, so callers simply await it.
 * The bound is per process; with several processes set GRAPH_RATE_PER_SECOND to the share of each.
 */
export class RateLimiter {
  private readonly buckets = new Map<
    string,
    { tokens: number; updated: number; queue: (() => void)[]; timer: NodeJS.Timeout | null }
  >();

  constructor(
    private readonly ratePerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  take(key: string): Promise<void> {
    const b = this.bucket(key);
    this.refill(b);
    if (b.queue.length === 0 && b.tokens >= 1) {
      b.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      b.queue.push(resolve);
      this.schedule(b);
    });
  }

  private bucket(key: string) {
    let b = this.buckets.get(key);
    if (!b) {
      // Start with a full second's worth so a burst after idle goes out at once.
      b = { tokens: this.ratePerSecond, updated: this.now(), queue: [], timer: null };
      this.buckets.set(key, b);
    }
    return b;
  }

  private refill(b: { tokens: number; updated: number }): void {
    const t = this.now();
    b.tokens = Math.min(this.ratePerSecond, b.tokens + ((t - b.updated) / 1000) * this.ratePerSecond);
    b.updated = t;
  }

  private schedule(b: { tokens: number; updated: number; queue: (() => void)[]; timer: NodeJS.Timeout | null }): void {
    if (b.timer) return;
    const wait = Math.max(1, Math.ceil(((1 - b.tokens) / this.ratePerSecond) * 1000));
    b.timer = setTimeout(() => {
      b.timer = null;
      this.refill(b);
      while (b.queue.length > 0 && b.tokens >= 1) {
        b.tokens -= 1;
        b.queue.shift()?.();
      }
      if (b.queue.length > 0) this.schedule(b);
    }, wait);
  }
}
