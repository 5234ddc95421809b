import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RetryTimers } from '../../../src/conversations/retry-timers.js';

describe('RetryTimers: one pending retry per key', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('when a key is asked for again and again, then one timer waits and the key fires once', () => {
    const fired: string[] = [];
    const timers = new RetryTimers((key) => fired.push(key));
    for (let i = 0; i < 50; i++) timers.schedule('c:1', 1_000);
    timers.schedule('c:2', 1_000);
    expect(timers.size).toBe(2);
    vi.advanceTimersByTime(1_000);
    expect(fired.sort()).toEqual(['c:1', 'c:2']);
    expect(timers.size).toBe(0);
  });

  it('when a sooner retry is asked for, then it replaces the later one; a later one is ignored', () => {
    const fired: number[] = [];
    const timers = new RetryTimers(() => fired.push(Date.now()));
    const t0 = Date.now();
    timers.schedule('k', 5_000);
    timers.schedule('k', 100);
    timers.schedule('k', 60_000);
    expect(timers.size).toBe(1);
    vi.advanceTimersByTime(60_000);
    expect(fired).toEqual([t0 + 100]);
  });

  it('when cleared, then nothing fires', () => {
    const fire = vi.fn();
    const timers = new RetryTimers(fire);
    timers.schedule('k', 10);
    timers.clear();
    vi.advanceTimersByTime(100);
    expect(fire).not.toHaveBeenCalled();
    expect(timers.size).toBe(0);
  });
});
