import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { ThresholdMonitor, percentile } from '../../../src/conversations/threshold-monitor.js';

/** Captures the monitor's log lines (pino writes JSON to the destination stream). */
function capture() {
  const lines: { msg: string; threshold?: string }[] = [];
  const log = pino({ level: 'warn' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { log, lines };
}

describe('ThresholdMonitor', () => {
  it('when more than 50 messages are processed within a minute, then it recommends queue mode and warns once', () => {
    let now = 1_800_000_000_000;
    const { log, lines } = capture();
    const m = new ThresholdMonitor(log, () => now);
    for (let i = 0; i < 50; i++) m.recordProcessed(10, 5);
    expect(m.snapshot().queueModeRecommended).toBe(false);
    m.recordProcessed(10, 5);
    expect(m.snapshot()).toMatchObject({ messagesLastMinute: 51, peakPerMinute24h: 51, queueModeRecommended: true });
    for (let i = 0; i < 20; i++) m.recordProcessed(10, 5);
    expect(lines.filter((l) => l.threshold?.startsWith('peak'))).toHaveLength(1);
    now += 11 * 60_000; // next warning only after 10 minutes, and only if still true
    m.recordProcessed(10, 5);
    expect(lines.filter((l) => l.threshold?.startsWith('peak'))).toHaveLength(2);
  });

  it('when more than 10,000 messages fall in 24 h at a low rate, then the daily threshold trips, and old minutes roll off', () => {
    let now = 1_800_000_000_000;
    const m = new ThresholdMonitor(capture().log, () => now);
    for (let minute = 0; minute < 1_000; minute++) {
      for (let i = 0; i < 11; i++) m.recordProcessed(10, 5);
      now += 60_000;
    }
    expect(m.snapshot()).toMatchObject({ messagesLast24h: 11_000, peakPerMinute24h: 11, queueModeRecommended: true });
    now += 24 * 3_600_000;
    expect(m.snapshot()).toMatchObject({ messagesLast24h: 0, queueModeRecommended: false });
  });

  it('when processing p95 passes 5 s, then it is a reason to switch', () => {
    const m = new ThresholdMonitor(capture().log);
    for (let i = 0; i < 94; i++) m.recordProcessed(100, 5);
    for (let i = 0; i < 6; i++) m.recordProcessed(6_000, 5);
    expect(m.snapshot().reasons.some((r) => r.startsWith('processing p95'))).toBe(true);
  });

  it('when computing percentiles, then nearest-rank is used', () => {
    expect(percentile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
    expect(percentile([], 0.99)).toBe(0);
  });
});
