import { supervisedByPm2 } from '../config.js';

/**
 * PM2's own metrics and actions channel (the "axm" messages over the IPC pipe PM2 opens to each
 * process it starts), written here instead of taking a dependency: it is four message shapes.
 *
 *   { type: 'axm:monitor', data: { <name>: { value, unit? } } }   → `pm2 describe` / `pm2 monit` "Code metrics"
 *   { type: 'axm:action',  data: { action_name, opts, arity } }   → registers `pm2 trigger <app> <action_name>`
 *   PM2 → process: the action name (or { msg: name, opts })      → runs the action
 *   { type: 'axm:reply',   data: { action_name, return } }        → what `pm2 trigger` prints
 *
 * Outside PM2 (npm start, tests) there is no IPC pipe, or one that is not PM2's: nothing is sent.
 */
export interface Pm2Metric {
  value: number | string;
  unit?: string;
}

type Send = (message: unknown) => void;

export class Pm2Channel {
  private readonly actions = new Map<string, (opts: unknown) => Promise<unknown>>();
  private listening = false;

  constructor(private readonly send: Send | null = underPm2() ? (m) => process.send?.(m) : null) {}

  get active(): boolean {
    return this.send !== null;
  }

  /** PM2 merges each report into what it shows, so every report carries all metrics. */
  report(metrics: Record<string, Pm2Metric>): void {
    this.post({ type: 'axm:monitor', data: metrics });
  }

  /** Registers an action; its result (or `{ error }`) is what `pm2 trigger` prints. */
  action(name: string, run: (opts: unknown) => Promise<unknown>): void {
    if (!this.send) return;
    this.actions.set(name, run);
    this.post({ type: 'axm:action', data: { action_name: name, opts: null, arity: 1 } });
    if (!this.listening) {
      this.listening = true;
      process.on('message', (message: unknown) => void this.received(message));
    }
  }

  /** Exposed for tests: what PM2 sends down the pipe when an operator triggers an action. */
  async received(message: unknown): Promise<void> {
    const name =
      typeof message === 'string'
        ? message
        : typeof message === 'object' && message !== null && typeof (message as { msg?: unknown }).msg === 'string'
          ? (message as { msg: string }).msg
          : null;
    const run = name === null ? undefined : this.actions.get(name);
    if (!run || name === null) return;
    const opts = typeof message === 'object' && message !== null ? (message as { opts?: unknown }).opts : undefined;
    let result: unknown;
    try {
      result = await run(opts);
    } catch (err) {
      result = { error: { code: (err as { code?: string }).code ?? 'INTERNAL', message: (err as Error).message } };
    }
    this.post({ type: 'axm:reply', data: { action_name: name, return: result } });
  }

  private post(message: unknown): void {
    try {
      this.send?.(message);
    } catch {
      // The pipe closes while PM2 stops the process; the next start reports again.
    }
  }
}

/** An IPC pipe alone is not PM2's (a test runner's fork has one too): PM2 also sets pm_id. */
function underPm2(): boolean {
  return typeof process.send === 'function' && supervisedByPm2();
}
