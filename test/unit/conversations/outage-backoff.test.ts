import { describe, expect, it } from 'vitest';
import { OUTAGE_BACKOFF_CAP_MS, outageDelayMs } from '../../../src/conversations/queues.js';

describe('outageDelayMs', () => {
  it('when a job keeps meeting a database outage, then its delay doubles from the base and stops at the cap, however long it lasts', () => {
    expect([0, 1, 2, 3].map((n) => outageDelayMs(1_000, n))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(outageDelayMs(1_000, 5)).toBe(OUTAGE_BACKOFF_CAP_MS);
    expect(outageDelayMs(1_000, 10_000)).toBe(OUTAGE_BACKOFF_CAP_MS);
  });
});
