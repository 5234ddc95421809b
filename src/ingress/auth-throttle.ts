/**
 * Failed admin tokens per client address: after `maxFailures` within `windowMs`, the address gets
 * 429 for `blockMs` — for every request, a right token included, or a guesser could keep guessing
 * and simply wait for the answer that differs. In memory and per process: with PM2's two instances
 * an address gets twice the budget, still nothing a 32-character token needs to fear.
 */
export interface AuthThrottleOptions {
  maxFailures: number;
  windowMs: number;
  blockMs: number;
  /** Addresses tracked at once; the oldest are forgotten past it (a spray of addresses cannot exhaust memory). */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  windowStart: number;
  failures: number;
  blockedUntil: number;
}

export class AuthThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: AuthThrottleOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Milliseconds the address must still wait (0: it may try). */
  blockedFor(address: string): number {
    const entry = this.entries.get(address);
    return entry ? Math.max(0, entry.blockedUntil - this.now()) : 0;
  }

  recordFailure(address: string): void {
    const now = this.now();
    let entry = this.entries.get(address);
    if (!entry || now - entry.windowStart >= this.options.windowMs) {
      entry = { windowStart: now, failures: 0, blockedUntil: 0 };
    }
    entry.failures += 1;
    if (entry.failures >= this.options.maxFailures) {
      entry.blockedUntil = now + this.options.blockMs;
      entry.windowStart = entry.blockedUntil;
      entry.failures = 0;
    }
    // Re-inserted last, so Map order is least recently failed first.
    this.entries.delete(address);
    this.entries.set(address, entry);
    this.prune(now);
  }

  private prune(now: number): void {
    const max = this.options.maxEntries ?? 10_000;
    if (this.entries.size <= max) return;
    for (const [address, entry] of this.entries) {
      if (this.entries.size <= max) break;
      if (entry.blockedUntil <= now) this.entries.delete(address);
    }
    while (this.entries.size > max) this.entries.delete(this.entries.keys().next().value!);
  }
}
