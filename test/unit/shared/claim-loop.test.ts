import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { backoffMs } from '../../../src/shared/backoff.js';
import { ClaimLoop, IDLE_BACKOFF_MAX, type PassResult } from '../../../src/shared/claim-loop.js';

const silent = pino({ level: 'silent' });

/** A pass the test controls: each call waits until the test answers it. */
function scriptedPasses() {
  const calls: { resolve: (r: PassResult) => void; reject: (e: Error) => void }[] = [];
  let notify: (() => void) | null = null;
  return {
    pass: () =>
      new Promise<PassResult>((resolve, reject) => {
        calls.push({ resolve, reject });
        notify?.();
      }),
    /** Waits for the n-th pass (1-based) to start. */
    async started(n: number) {
      while (calls.length < n) await new Promise<void>((r) => (notify = r));
      return calls[n - 1]!;
    },
    get count() {
      return calls.length;
    },
  };
}

describe('ClaimLoop', () => {
  it('when woken during a pass, then the next pass runs at once instead of after the poll', async () => {
    const s = scriptedPasses();
    const loop = new ClaimLoop({ name: 't', pollMs: 60_000, pass: s.pass, log: silent });
    loop.start();
    const first = await s.started(1);
    loop.wake(); // new work committed while the first pass was claiming
    first.resolve({ idle: true, again: false });
    (await s.started(2)).resolve({ idle: true, again: false });
    expect(s.count).toBe(2);
    const stopped = loop.stop();
    await stopped;
  });

  it('when a pass reports more work, then it loops without sleeping; when idle, it sleeps the poll', async () => {
    const s = scriptedPasses();
    const loop = new ClaimLoop({ name: 't', pollMs: 60_000, pass: s.pass, log: silent });
    loop.start();
    (await s.started(1)).resolve({ idle: false, again: true });
    (await s.started(2)).resolve({ idle: true, again: false });
    // Sleeping for a minute now: no third pass until woken.
    await new Promise((r) => setImmediate(r));
    expect(s.count).toBe(2);
    loop.wake();
    (await s.started(3)).resolve({ idle: true, again: false });
    await loop.stop();
  });

  it('when passes keep finding nothing, then the sleep doubles up to its cap; a wake brings it back to the poll', async () => {
    vi.useFakeTimers();
    try {
      let passes = 0;
      const loop = new ClaimLoop({
        name: 't',
        pollMs: 100,
        pass: async () => {
          passes += 1;
          return { idle: true, again: false };
        },
        log: silent,
      });
      loop.start();
      await vi.advanceTimersByTimeAsync(0);
      expect(passes).toBe(1);
      // Sleeps of 100, 200, 400, 400 … ms (cap IDLE_BACKOFF_MAX × poll).
      expect(IDLE_BACKOFF_MAX).toBe(4);
      const after = async (ms: number) => {
        await vi.advanceTimersByTimeAsync(ms);
        return passes;
      };
      expect(await after(99)).toBe(1);
      expect(await after(1)).toBe(2);
      expect(await after(199)).toBe(2);
      expect(await after(1)).toBe(3);
      expect(await after(399)).toBe(3);
      expect(await after(1)).toBe(4);
      expect(await after(399)).toBe(4);
      expect(await after(1)).toBe(5);
      // New work committed: a pass at once, and the next sleep is the poll again.
      loop.wake();
      expect(await after(0)).toBe(6);
      expect(await after(100)).toBe(7);
      await loop.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('whenIdle resolves only after an idle pass that started after the call', async () => {
    const s = scriptedPasses();
    const loop = new ClaimLoop({ name: 't', pollMs: 60_000, pass: s.pass, log: silent });
    loop.start();
    const first = await s.started(1);
    let idle = false;
    const waiting = loop.whenIdle().then(() => (idle = true));
    // The pass in flight began before the caller's commit: its "idle" does not count.
    first.resolve({ idle: true, again: false });
    const second = await s.started(2);
    expect(idle).toBe(false);
    second.resolve({ idle: true, again: false });
    await waiting;
    expect(idle).toBe(true);
    await loop.stop();
  });

  it('when a pass throws, then the loop logs, asks what that means, sleeps and carries on', async () => {
    const s = scriptedPasses();
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    let errors = 0;
    const loop = new ClaimLoop({
      name: 't',
      pollMs: 60_000,
      pass: s.pass,
      log,
      onPassError: () => {
        errors += 1;
        return { idle: true, again: false };
      },
    });
    loop.start();
    const idle = loop.whenIdle();
    (await s.started(1)).reject(new Error('connection refused for +5491155550000'));
    (await s.started(2)).reject(new Error('again'));
    await idle;
    expect(errors).toBe(2);
    expect(lines.join('\n')).toContain('t pass failed; retrying');
    expect(lines.join('\n')).not.toContain('5491155550000');
    await loop.stop();
  });

  it('stop ends the loop after its current pass and releases waiters; whenIdle on a stopped loop resolves', async () => {
    const s = scriptedPasses();
    const loop = new ClaimLoop({ name: 't', pollMs: 60_000, pass: s.pass, log: silent });
    loop.start();
    const first = await s.started(1);
    const waiter = loop.whenIdle();
    const stopped = loop.stop();
    first.resolve({ idle: false, again: true });
    await stopped;
    await waiter;
    await loop.whenIdle();
    expect(s.count).toBe(1);
  });
});

describe('backoff', () => {
  it('doubles from the base per attempt and stops at the cap, even for absurd attempt counts', () => {
    const b = { baseMs: 500, capMs: 60_000 };
    expect([1, 2, 3, 4].map((a) => backoffMs(a, b))).toEqual([500, 1_000, 2_000, 4_000]);
    expect(backoffMs(8, b)).toBe(60_000);
    expect(backoffMs(10_000, b)).toBe(60_000);
    expect(backoffMs(0, b)).toBe(500);
  });
});

describe('one loop, one backoff', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
    });
  const sources = files('src')
    .filter((f) => !f.includes('/simulator/'))
    .map((f) => ({ f, text: readFileSync(f, 'utf8') }));
  const using = (re: RegExp) => sources.filter((s) => re.test(s.text)).map((s) => s.f.replace(/\\/g, '/'));

  it('only the shared claim loop sleeps on a wake signal between passes', () => {
    expect(using(/new WakeSignal\(/)).toEqual(['src/shared/claim-loop.ts']);
  });

  it('only the shared backoff doubles a delay per attempt', () => {
    expect(using(/\b2 \*\* /)).toEqual(['src/shared/backoff.ts']);
  });

  it('only the shared worker id names lease owners', () => {
    expect(using(/randomUUID\(\)\.slice\(0, 8\)/)).toEqual(['src/shared/worker-id.ts']);
  });
});
