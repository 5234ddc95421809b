import { describe, expect, it } from 'vitest';
import { runAtOnce, runSliced, TimeSlicer, type Steps } from '../../../src/shared/time-slicer.js';

/**
 * `count` steps of ~1 ms of synchronous work each; returns how many steps ran. Counted in steps, not
 * wall time, so a machine busy with other work runs the same steps, only slower.
 */
function* busy(count: number): Steps<number> {
  let steps = 0;
  while (steps < count) {
    const stepEnd = performance.now() + 1;
    while (performance.now() < stepEnd) {
      // spin
    }
    steps += 1;
    yield;
  }
  return steps;
}

describe('TimeSlicer', () => {
  it('when sliced work runs far longer than a slice, then callbacks queued meanwhile run before it ends, each within about a slice', async () => {
    const gaps: number[] = [];
    let last = performance.now();
    let ticking = true;
    const tick = () => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const steps = await runSliced(busy(200), new TimeSlicer(10));
    ticking = false;
    expect(steps).toBe(200);
    expect(gaps.length).toBeGreaterThan(5); // the loop got its turns during the work…
    expect(Math.max(...gaps)).toBeLessThan(100); // …and never waited for the whole 200 ms
  });

  it('when run at once, then the same steps give the same result without pausing', () => {
    let ran = false;
    setImmediate(() => {
      ran = true;
    });
    expect(runAtOnce(busy(20))).toBe(20);
    expect(ran).toBe(false);
  });
});
