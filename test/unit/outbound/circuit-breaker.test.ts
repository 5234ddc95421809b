import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../src/outbound/circuit-breaker.js';

describe('CircuitBreaker', () => {
  const make = () => {
    let now = 0;
    const changes: string[] = [];
    const cb = new CircuitBreaker(
      3,
      1_000,
      () => now,
      (s) => changes.push(s),
    );
    return { cb, changes, advance: (ms: number) => (now += ms) };
  };

  it('when failures reach the threshold, then it opens and refuses requests until the open period ends', () => {
    const { cb, changes, advance } = make();
    cb.failure();
    cb.failure();
    expect(cb.allow()).toBe(true);
    cb.failure();
    expect(cb.current()).toBe('open');
    expect(cb.allow()).toBe(false);
    advance(999);
    expect(cb.allow()).toBe(false);
    advance(1);
    expect(cb.allow()).toBe(true); // the single half-open probe
    expect(cb.allow()).toBe(false);
    expect(changes).toEqual(['open', 'half_open']);
  });

  it('when the half-open probe succeeds, then it closes; when it fails, then it opens again', () => {
    const { cb, changes, advance } = make();
    for (let i = 0; i < 3; i++) cb.failure();
    advance(1_000);
    cb.allow();
    cb.failure();
    expect(cb.current()).toBe('open');
    advance(1_000);
    cb.allow();
    cb.success();
    expect(cb.current()).toBe('closed');
    expect(changes).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
  });

  it('when a success comes between failures, then the count starts over', () => {
    const { cb } = make();
    cb.failure();
    cb.failure();
    cb.success();
    cb.failure();
    cb.failure();
    expect(cb.current()).toBe('closed');
  });
});
