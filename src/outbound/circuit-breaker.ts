export type CircuitState = 'closed' | 'open' | 'half_open';

/**
 * Stops hammering Graph when it keeps failing: after `threshold` consecutive transient failures the
 * circuit opens for `openMs`; then one probe is allowed (half-open) and its result closes or
 * re-opens it. While open, WhatsApp sends wait in the outbox (nothing is lost) and /ready reports
 * `graph_circuit_open`.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private state: CircuitState = 'closed';
  private probing = false;

  constructor(
    private readonly threshold: number,
    private readonly openMs: number,
    private readonly now: () => number = Date.now,
    private readonly onChange: (state: CircuitState) => void = () => undefined,
  ) {}

  /** May a request go out now? In half-open only one probe at a time. */
  allow(): boolean {
    if (this.state === 'open' && this.now() - this.openedAt >= this.openMs) this.set('half_open');
    if (this.state === 'closed') return true;
    if (this.state === 'half_open' && !this.probing) {
      this.probing = true;
      return true;
    }
    return false;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    if (this.state !== 'closed') this.set('closed');
  }

  failure(): void {
    this.probing = false;
    this.failures += 1;
    if (this.state === 'half_open' || this.failures >= this.threshold) {
      this.openedAt = this.now();
      if (this.state !== 'open') this.set('open');
    }
  }

  /** A request that ended without telling us about Graph's health (e.g. throttled) frees the probe. */
  neutral(): void {
    this.probing = false;
  }

  current(): CircuitState {
    if (this.state === 'open' && this.now() - this.openedAt >= this.openMs) return 'half_open';
    return this.state;
  }

  private set(state: CircuitState): void {
    this.state = state;
    this.onChange(state);
  }
}
