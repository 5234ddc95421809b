/**
 * Runs work per key, one at a time per key, many keys in parallel up to `concurrency`.
 * Scheduling a key that is already running only marks it for another pass, so a burst of messages
 * for one conversation becomes one drain loop, and different conversations never wait for each
 * other beyond the global bound. This is the in-process half of the ordering guarantee; the
 * cross-process half is the Postgres lease (see store/context-query.ts).
 */
export class KeyedExecutor {
  private readonly running = new Map<string, { again: boolean }>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private concurrency: number,
    private readonly work: (key: string) => Promise<void>,
    private readonly onError: (key: string, err: unknown) => void,
  ) {}

  schedule(key: string): void {
    const state = this.running.get(key);
    if (state) {
      state.again = true;
      return;
    }
    const entry = { again: false };
    this.running.set(key, entry);
    void this.run(key, entry);
  }

  /** Keys currently scheduled or running. */
  get size(): number {
    return this.running.size;
  }

  get inFlight(): number {
    return this.active;
  }

  isScheduled(key: string): boolean {
    return this.running.has(key);
  }

  /** Resolves once nothing is scheduled or running. */
  whenIdle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(key: string, entry: { again: boolean }): Promise<void> {
    await this.acquire();
    try {
      do {
        entry.again = false;
        try {
          await this.work(key);
        } catch (err) {
          this.onError(key, err);
        }
      } while (entry.again);
    } finally {
      this.running.delete(key);
      this.release();
      if (this.running.size === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }
}
