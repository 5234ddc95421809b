import type { Logger } from 'pino';
import { isAppError } from '../errors.js';
import { scrubText } from '../log-safety.js';
import { backoffMs } from './backoff.js';
import { WakeSignal } from './wake-signal.js';

/** What one pass of a background loop found. */
export interface PassResult {
  /** Nothing was due and nothing is in flight: `whenIdle()` callers may go on. */
  idle: boolean;
  /** There may be more due work right now: run the next pass without sleeping. */
  again: boolean;
}

export interface ClaimLoopOptions {
  /** For the log line of a failed pass. */
  name: string;
  /**
   * Sleep between passes when there is nothing more to do (cut short by `wake()`). Idle passes in a
   * row double it, up to IDLE_BACKOFF_MAX times: a loop with no work costs a statement every few
   * seconds, not several a second; a wake or a pass that found work brings it back to `pollMs`.
   */
  pollMs: number;
  pass: () => Promise<PassResult>;
  /**
   * A pass threw (usually the database away): the loop logs it, then sleeps. The answer says
   * whether that counts as idle (nothing else in flight); default: not idle.
   */
  onPassError?: (err: unknown) => PassResult;
  log: Logger;
}

/**
 * The background loop of every worker that drains a table by claiming rows (outbox sender, media
 * downloader) or sweeps for forgotten work (processing's sweeper): run a pass, sleep `pollMs` unless
 * woken, repeat until stopped. A wake that lands during a pass is kept (WakeSignal), so committed
 * work is never left for the next poll. `whenIdle()` resolves only on an idle pass that *started*
 * after the call, because only that pass's claim is sure to see what the caller just committed.
 */
/** The idle sleep grows to at most this many times `pollMs`. */
export const IDLE_BACKOFF_MAX = 4;

export class ClaimLoop {
  private readonly signal = new WakeSignal();
  private idleStreak = 0;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private passes = 0;
  private idleWaiters: { after: number; resolve: () => void }[] = [];

  constructor(private readonly o: ClaimLoopOptions) {}

  get running(): boolean {
    return this.loop !== null && !this.stopping;
  }

  start(): void {
    if (this.loop || this.stopping) return;
    this.loop = this.run();
  }

  /** New work was committed: look now instead of at the next poll. */
  wake(): void {
    this.idleStreak = 0;
    this.signal.wake();
  }

  /** Resolves after an idle pass that started after this call; at once when the loop is not running. */
  whenIdle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push({ after: this.passes, resolve });
      this.wake();
    });
  }

  /** Ends the loop after its current pass; pending `whenIdle()` callers are released. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    for (const w of this.idleWaiters.splice(0)) w.resolve();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.signal.reset();
      const pass = ++this.passes;
      let result: PassResult = { idle: false, again: false };
      try {
        result = await this.o.pass();
      } catch (err) {
        // A database error can quote a value (a phone in a CRM trigger's message): masked like every error line.
        this.o.log.warn(
          {
            err: {
              code: isAppError(err) ? err.code : undefined,
              message: scrubText((err as Error)?.message ?? String(err)),
            },
          },
          `${this.o.name} pass failed; retrying`,
        );
        result = this.o.onPassError?.(err) ?? result;
      }
      if (result.idle) this.releaseIdle(pass);
      this.idleStreak = result.idle ? this.idleStreak + 1 : 0;
      const sleepMs = backoffMs(this.idleStreak, { baseMs: this.o.pollMs, capMs: this.o.pollMs * IDLE_BACKOFF_MAX });
      if (!result.again && !this.stopping) await this.signal.sleep(sleepMs);
    }
  }

  private releaseIdle(pass: number): void {
    const ready = this.idleWaiters.filter((w) => w.after < pass);
    this.idleWaiters = this.idleWaiters.filter((w) => w.after >= pass);
    for (const w of ready) w.resolve();
  }
}
