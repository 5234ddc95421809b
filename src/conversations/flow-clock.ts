/**
 * The flows' clock: the message's WhatsApp time, shifted by an offset that only tests set
 * (ROUTER_CLOCK_OFFSET_MS, or PUT /admin/clock; both refused when NODE_ENV=production). Autoreply
 * bands, cooldowns and the agent guard read it, so a test can place a message at 23:30 or 08:15 in
 * the business's time zone, and a cooldown two hours later, without sleeping or touching the host.
 */
export class FlowClock {
  constructor(private offset = 0) {}

  get offsetMs(): number {
    return this.offset;
  }

  set(offsetMs: number): void {
    this.offset = offsetMs;
  }

  /** The flows' time of a message written at `messageMs`. */
  at(messageMs: number): number {
    return messageMs + this.offset;
  }
}
