import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../../src/shared/coalescer.js';

/** A batch runner the test releases by hand, recording each batch it was given. */
function heldRunner() {
  const batches: number[][] = [];
  const releases: (() => void)[] = [];
  return {
    batches,
    release: () => releases.shift()?.(),
    run: (items: number[]) =>
      new Promise<(number | Error)[]>((resolve) => {
        batches.push(items);
        releases.push(() => resolve(items.map((i) => (i < 0 ? new Error(`bad ${i}`) : i * 10))));
      }),
  };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('Coalescer', () => {
  it('when idle, an item goes out at once alone; items submitted while it runs share the next batch', async () => {
    const r = heldRunner();
    const c = new Coalescer({ maxBatch: 10, maxInFlight: 1, run: r.run });
    const first = c.submit(1);
    expect(r.batches).toEqual([[1]]);
    const rest = [2, 3, 4].map((i) => c.submit(i));
    await turn();
    expect(r.batches).toEqual([[1]]);
    r.release();
    expect(await first).toBe(10);
    await turn();
    expect(r.batches).toEqual([[1], [2, 3, 4]]);
    r.release();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
    expect(c.stats()).toMatchObject({ batches: 2, items: 4, waiting: 0, inFlight: 0 });
  });

  it('takes at most maxBatch items per batch and runs up to maxInFlight batches at once', async () => {
    const r = heldRunner();
    const c = new Coalescer({ maxBatch: 2, maxInFlight: 2, run: r.run });
    const all = [1, 2, 3, 4, 5, 6].map((i) => c.submit(i));
    // Two slots: 1 and 2 went out alone as they came; 3..6 wait for a slot.
    expect(r.batches).toEqual([[1], [2]]);
    r.release();
    await turn();
    expect(r.batches).toEqual([[1], [2], [3, 4]]);
    r.release();
    r.release();
    await turn();
    expect(r.batches).toEqual([[1], [2], [3, 4], [5, 6]]);
    r.release();
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('when the batch answers an Error for one item, then only that item fails; when run throws, the whole batch fails', async () => {
    const r = heldRunner();
    const c = new Coalescer({ maxBatch: 10, maxInFlight: 1, run: r.run });
    const held = c.submit(1);
    const good = c.submit(2);
    const bad = c.submit(-3);
    r.release();
    await held;
    await turn();
    r.release();
    expect(await good).toBe(20);
    await expect(bad).rejects.toThrow('bad -3');
    const failing = new Coalescer<number, number>({
      maxBatch: 10,
      maxInFlight: 1,
      run: async () => {
        throw new Error('database away');
      },
    });
    const results = await Promise.allSettled([failing.submit(1), failing.submit(2)]);
    expect(results.map((x) => x.status)).toEqual(['rejected', 'rejected']);
  });

  it('with gatherTurn, items submitted in the same event-loop turn share the first batch', async () => {
    const r = heldRunner();
    const c = new Coalescer({ maxBatch: 10, maxInFlight: 1, gatherTurn: true, run: r.run });
    const all = [1, 2, 3].map((i) => c.submit(i));
    expect(r.batches).toEqual([]);
    await turn();
    expect(r.batches).toEqual([[1, 2, 3]]);
    r.release();
    expect(await Promise.all(all)).toEqual([10, 20, 30]);
  });

  it('when a batch fails as a whole and splitWhen holds, then each item is run alone and only the one at fault fails; otherwise the batch fails at once', async () => {
    const runs: number[][] = [];
    // A statement over several items fails for the poisoned one (13) among them; alone, only it fails.
    const run = async (items: number[]) => {
      runs.push(items);
      if (items.includes(13)) throw new Error(items.length > 1 ? 'shared statement refused' : 'poisoned');
      return items.map((i) => i * 10);
    };
    const split = new Coalescer({ maxBatch: 10, maxInFlight: 1, gatherTurn: true, run, splitWhen: () => true });
    const answers = await Promise.allSettled([12, 13, 14].map((i) => split.submit(i)));
    expect(runs).toEqual([[12, 13, 14], [12], [13], [14]]);
    expect(answers.map((a) => (a.status === 'fulfilled' ? a.value : (a.reason as Error).message))).toEqual([
      120,
      'poisoned',
      140,
    ]);

    runs.length = 0;
    const away = new Coalescer({ maxBatch: 10, maxInFlight: 1, gatherTurn: true, run, splitWhen: () => false });
    const refused = await Promise.allSettled([12, 13, 14].map((i) => away.submit(i)));
    expect(runs).toEqual([[12, 13, 14]]);
    expect(refused.map((a) => (a.status === 'rejected' ? (a.reason as Error).message : a.value))).toEqual([
      'shared statement refused',
      'shared statement refused',
      'shared statement refused',
    ]);
  });
});
