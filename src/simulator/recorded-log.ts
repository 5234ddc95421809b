/**
 * An append-only list that keeps at least the last `max` items, plus an exact count since reset.
 * Trimming happens in batches (a quarter of `max`) so each append stays O(1) amortised.
 */
export class RecordedLog<T> {
  readonly items: T[] = [];
  private total = 0;
  private readonly slack: number;

  constructor(private readonly max: number = Number.POSITIVE_INFINITY) {
    this.slack = Number.isFinite(max) ? Math.max(1, Math.ceil(max / 4)) : 0;
  }

  get count(): number {
    return this.total;
  }

  push(item: T): void {
    this.items.push(item);
    this.total += 1;
    if (this.slack > 0 && this.items.length > this.max + this.slack) {
      this.items.splice(0, this.items.length - this.max);
    }
  }

  clear(): void {
    this.items.length = 0;
    this.total = 0;
  }
}

interface Waiter<T> {
  n: number;
  resolve: (items: T[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** A RecordedLog whose count can be awaited; waiters are checked on push, never polled. */
export class AwaitableLog<T> extends RecordedLog<T> {
  private readonly waiters = new Set<Waiter<T>>();

  override push(item: T): void {
    super.push(item);
    if (this.waiters.size === 0) return;
    for (const w of this.waiters) {
      if (this.count >= w.n) this.settle(w, () => w.resolve(this.items.slice()));
    }
  }

  /** Resolves with a copy of the items once `n` were pushed since the last clear. */
  waitFor(n: number, timeoutMs: number, what: string): Promise<T[]> {
    if (this.count >= n) return Promise.resolve(this.items.slice());
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = {
        n,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.settle(waiter, () =>
            reject(new Error(`timed out after ${timeoutMs} ms waiting for ${n} ${what}; got ${this.count}`)),
          );
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Rejects every pending waiter (the simulator is closing). */
  rejectAll(reason: string): void {
    for (const w of this.waiters) this.settle(w, () => w.reject(new Error(reason)));
  }

  private settle(w: Waiter<T>, action: () => void): void {
    clearTimeout(w.timer);
    this.waiters.delete(w);
    action();
  }
}
