import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GraphVersionWatch } from '../../../src/outbound/graph-version-watch.js';

interface Line {
  level: number;
  msg: string;
  code?: string;
  version?: string;
  expires?: string | null;
  daysLeft?: number | null;
  suggested?: string;
}

const WARN = 40;
const ERROR = 50;
const INFO = 30;
const DAY_MS = 86_400_000;

/** A watch on a clock the test moves, logging into an array. */
function watch(version: string, startDay: string) {
  const lines: Line[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  let now = new Date(`${startDay}T09:00:00Z`);
  const w = new GraphVersionWatch(version, log, { now: () => now });
  return {
    w,
    lines,
    /** Moves the clock and fires the daily check as a day passing would. */
    nextDay() {
      now = new Date(now.getTime() + DAY_MS);
      vi.advanceTimersByTime(DAY_MS);
    },
  };
}

describe('GraphVersionWatch', () => {
  beforeEach(() => {
    // Only the interval is faked; the watch reads the injected clock, never Date.now().
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('when the version is fine, then start logs one info line and the daily check stays quiet', () => {
    const { w, lines, nextDay } = watch('v25.0', '2026-12-01');
    w.start();
    nextDay();
    w.stop();
    expect(lines).toEqual([
      expect.objectContaining({
        level: INFO,
        msg: 'Graph API version',
        version: 'v25.0',
        expires: '2028-07-29',
        daysLeft: 606,
      }),
    ]);
  });

  it('when the version expires within 90 days, then a warning with the date is logged at start and again every day, naming the default to move to', () => {
    const { w, lines, nextDay } = watch('v21.0', '2026-12-01');
    w.start();
    nextDay();
    nextDay();
    w.stop();
    nextDay(); // stopped: no more checks
    expect(lines.map((l) => [l.level, l.code, l.daysLeft])).toEqual([
      [WARN, 'GRAPH_VERSION_EXPIRING', 51],
      [WARN, 'GRAPH_VERSION_EXPIRING', 50],
      [WARN, 'GRAPH_VERSION_EXPIRING', 49],
    ]);
    expect(lines[0]).toMatchObject({ version: 'v21.0', expires: '2027-01-21', suggested: 'v25.0' });
    expect(lines[0]?.msg).toContain('2027-01-21');
    expect(lines[0]?.msg).toContain('WHATSAPP_API_VERSION to v25.0');
  });

  it('when a long-running process crosses into the 90-day window, then the daily check starts warning', () => {
    const { w, lines, nextDay } = watch('v21.0', '2026-10-21');
    w.start(); // 92 days left: info only
    nextDay(); // 91
    nextDay(); // 90
    w.stop();
    expect(lines.map((l) => [l.level, l.daysLeft])).toEqual([
      [INFO, 92],
      [WARN, 90],
    ]);
  });

  it('when the version has expired, then an error with its code is logged', () => {
    const { w, lines } = watch('v20.0', '2026-12-01');
    w.start();
    w.stop();
    expect(lines).toEqual([
      expect.objectContaining({
        level: ERROR,
        code: 'GRAPH_VERSION_EXPIRED',
        version: 'v20.0',
        expires: '2026-09-24',
        daysLeft: -68,
        suggested: 'v25.0',
      }),
    ]);
  });

  it('when the version is newer than the table, then it is accepted with one info line and never warned about', () => {
    const { w, lines, nextDay } = watch('v28.0', '2026-12-01');
    w.start();
    nextDay();
    w.stop();
    expect(lines).toEqual([expect.objectContaining({ level: INFO, code: 'GRAPH_VERSION_UNKNOWN', version: 'v28.0' })]);
    expect(w.current()).toMatchObject({ state: 'unknown', daysLeft: null });
  });

  it('when start is called twice, then there is still one daily check', () => {
    const { w, lines, nextDay } = watch('v21.0', '2026-12-01');
    w.start();
    w.start();
    nextDay();
    w.stop();
    expect(lines).toHaveLength(2);
  });
});
