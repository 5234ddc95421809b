/**
 * A poll interval that can be cut short. Background loops (outbox sender, media downloader) sleep
 * on it between passes; whoever commits new work calls wake(). A wake that lands while a pass is
 * running is remembered, so the next sleep returns at once instead of missing it.
 */
export class WakeSignal {
  private woken = false;
  private wakeUp: (() => void) | null = null;

  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Call at the start of a pass: wakes before this point are covered by the pass itself. */
  reset(): void {
    this.woken = false;
  }

  /** Waits up to `ms`, or less if woken since the last reset. */
  sleep(ms: number): Promise<void> {
    if (this.woken) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wakeUp = null;
        resolve();
      }
      this.wakeUp = done;
    });
  }
}
