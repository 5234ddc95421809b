import { describe, expect, it } from 'vitest';
import { KeyedExecutor } from '../../../src/conversations/keyed-executor.js';

/** A task whose completion the test controls, so interleavings are forced, not timed. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((r) => (open = r));
  return { done, open };
}

describe('KeyedExecutor', () => {
  it('when one key is scheduled again while running, then it runs again after, never alongside', async () => {
    const gates = [gate(), gate()];
    let calls = 0;
    let active = 0;
    let maxActive = 0;
    const ex = new KeyedExecutor(
      4,
      async () => {
        const g = gates[calls++];
        active += 1;
        maxActive = Math.max(maxActive, active);
        await g?.done;
        active -= 1;
      },
      () => undefined,
    );
    ex.schedule('a');
    await new Promise((r) => setImmediate(r));
    ex.schedule('a');
    ex.schedule('a');
    expect(calls).toBe(1);
    gates[0]!.open();
    gates[1]!.open();
    await ex.whenIdle();
    expect(calls).toBe(2); // the three schedules collapse into the running pass plus one more
    expect(maxActive).toBe(1);
  });

  it('when more keys than the concurrency bound are scheduled, then at most that many run at once', async () => {
    const gates = new Map<string, ReturnType<typeof gate>>();
    let active = 0;
    let maxActive = 0;
    const ex = new KeyedExecutor(
      3,
      async (key) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        const g = gate();
        gates.set(key, g);
        await g.done;
        active -= 1;
      },
      () => undefined,
    );
    for (let i = 0; i < 10; i++) ex.schedule(`k${i}`);
    await new Promise((r) => setImmediate(r));
    expect(active).toBe(3);
    while (gates.size > 0 || ex.size > 0) {
      for (const [k, g] of gates) {
        gates.delete(k);
        g.open();
      }
      await new Promise((r) => setImmediate(r));
    }
    await ex.whenIdle();
    expect(maxActive).toBe(3);
  });

  it('when a task throws, then the error is reported and other keys keep running', async () => {
    const errors: string[] = [];
    const ran: string[] = [];
    const ex = new KeyedExecutor(
      2,
      async (key) => {
        if (key === 'bad') throw new Error('boom');
        ran.push(key);
      },
      (key) => errors.push(key),
    );
    ex.schedule('bad');
    ex.schedule('good');
    await ex.whenIdle();
    expect(errors).toEqual(['bad']);
    expect(ran).toEqual(['good']);
  });

  it('when concurrency is 1, then keys run strictly one after another in scheduling order', async () => {
    const order: string[] = [];
    const ex = new KeyedExecutor(
      1,
      async (key) => {
        order.push(`start ${key}`);
        await new Promise((r) => setImmediate(r));
        order.push(`end ${key}`);
      },
      () => undefined,
    );
    ex.schedule('x');
    ex.schedule('y');
    await ex.whenIdle();
    expect(order).toEqual(['start x', 'end x', 'start y', 'end y']);
  });
});
