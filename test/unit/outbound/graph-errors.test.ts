import { describe, expect, it } from 'vitest';
import { backoffFor, classifyGraphFailure } from '../../../src/outbound/graph-errors.js';

describe('classifyGraphFailure', () => {
  it.each([
    [429, 130429, 'throttle'],
    [400, 131056, 'throttle'],
    [500, 131000, 'transient'],
    [503, 131016, 'transient'],
    [502, null, 'transient'],
    [null, null, 'transient'],
    [401, 190, 'auth'],
    [400, 131047, 'permanent'],
    [400, 131026, 'permanent'],
    [400, 100, 'permanent'],
    [404, null, 'permanent'],
  ] as const)('when Graph answers HTTP %s with code %s, then it is %s', (status, code, kind) => {
    expect(classifyGraphFailure(status, code)).toBe(kind);
  });
});

describe('backoffFor', () => {
  it('when attempts grow, then the wait doubles up to a minute, pair-rate limits waiting longest', () => {
    expect([1, 2, 3].map((a) => backoffFor('transient', null, a))).toEqual([500, 1_000, 2_000]);
    expect(backoffFor('throttle', 130429, 1)).toBe(1_000);
    expect(backoffFor('throttle', 131056, 1)).toBe(6_000);
    expect(backoffFor('transient', null, 30)).toBe(60_000);
  });
});
