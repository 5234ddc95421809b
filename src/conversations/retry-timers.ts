/**
 * At most one pending retry per key (a conversation, or a status), the earliest asked for. Failures,
 * lease conflicts, backoffs and the sweeper each used to start a timer of their own, and a poison
 * message's timers multiplied with every failure.
 */
export class RetryTimers {
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();

  constructor(private readonly fire: (key: string) => void) {}

  /** Fires `key` after `delayMs`, unless a retry of it already fires sooner (then that one stands). */
  schedule(key: string, delayMs: number): void {
    const due = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending) {
      if (pending.due <= due) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      if (this.timers.get(key)?.timer === timer) this.timers.delete(key);
      this.fire(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { timer, due });
  }

  get size(): number {
    return this.timers.size;
  }

  clear(): void {
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
