/**
 * Counts over the last minute in one-second slots: "messages per minute" for `pm2 monit`, where
 * an operator wants the rate right now, not a 24-hour total. Fixed memory (60 numbers).
 */
export class RateWindow {
  private readonly slots = new Array<number>(60).fill(0);
  private lastSecond: number;

  constructor(private readonly now: () => number = Date.now) {
    this.lastSecond = Math.floor(now() / 1000);
  }

  add(n = 1): void {
    this.advance();
    this.slots[this.lastSecond % 60]! += n;
  }

  /** Sum of the last 60 seconds. */
  perMinute(): number {
    this.advance();
    return this.slots.reduce((a, b) => a + b, 0);
  }

  /** Clears the slots the clock moved past since the last call. */
  private advance(): void {
    const second = Math.floor(this.now() / 1000);
    const passed = Math.min(60, second - this.lastSecond);
    for (let i = 1; i <= passed; i += 1) this.slots[(this.lastSecond + i) % 60] = 0;
    if (second > this.lastSecond) this.lastSecond = second;
  }
}
