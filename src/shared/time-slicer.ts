import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Cuts long synchronous work into slices of about `sliceMs` and gives the event loop back between
 * them, so that other requests (/health, the next webhook) wait one slice, not the whole job. A
 * 5 MB webhook batch holds 50,000 items to normalise and serialise: in one run that stalled the
 * process for over a second. The pause is a macrotask (setImmediate), not a resolved promise:
 * only a macrotask lets pending socket callbacks run.
 */
export class TimeSlicer {
  private sliceStart = performance.now();

  constructor(private readonly sliceMs = 10) {}

  /** True once the current slice is used up. */
  get due(): boolean {
    return performance.now() - this.sliceStart >= this.sliceMs;
  }

  /** Lets the event loop run, then starts a new slice. */
  async pause(): Promise<void> {
    await nextTurn();
    this.sliceStart = performance.now();
  }

  async pauseIfDue(): Promise<void> {
    if (this.due) await this.pause();
  }
}

/** Work written as a generator: each bare `yield` is a point where it may pause. */
export type Steps<T> = Generator<void, T, void>;

/** Runs the steps to the end, pausing at a step whenever the slice is used up. */
export async function runSliced<T>(steps: Steps<T>, slicer: TimeSlicer): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (slicer.due) await slicer.pause();
  }
}

/** Runs the steps to the end without pausing (small inputs, callers that must stay synchronous). */
export function runAtOnce<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}
