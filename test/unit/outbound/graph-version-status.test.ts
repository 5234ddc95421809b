import { describe, expect, it } from 'vitest';
import { graphVersionReadiness, graphVersionStatus } from '../../../src/outbound/graph-version-status.js';
import { DEFAULT_GRAPH_API_VERSION, GRAPH_API_VERSIONS } from '../../../src/outbound/graph-versions.js';

const TODAY = new Date('2026-12-01T12:00:00Z');
const at = (iso: string) => new Date(`${iso}T12:00:00Z`);

describe('Graph API version table', () => {
  it('when read, then rows are newest first with well-formed dates, each expiring after it was released', () => {
    const versions = GRAPH_API_VERSIONS.map((r) => Number(r.version.slice(1)));
    expect(versions).toEqual([...versions].sort((a, b) => b - a));
    for (const row of GRAPH_API_VERSIONS) {
      expect(row.version).toMatch(/^v\d+\.\d+$/);
      expect(row.released).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      if (row.expires !== null) expect(row.expires > row.released).toBe(true);
    }
  });

  it('when the default is looked up, then it is the newest version with a published date, and that date is after 2028 began', () => {
    const dated = GRAPH_API_VERSIONS.find((r) => r.expires !== null);
    expect(DEFAULT_GRAPH_API_VERSION).toBe('v25.0');
    expect(dated?.version).toBe(DEFAULT_GRAPH_API_VERSION);
    expect(dated?.expires).toBe('2028-07-29');
    expect(graphVersionStatus(DEFAULT_GRAPH_API_VERSION, TODAY)).toEqual({
      version: 'v25.0',
      state: 'current',
      expires: '2028-07-29',
      daysLeft: 606,
    });
  });
});

describe('graphVersionStatus and graphVersionReadiness on 2026-12-01', () => {
  it('when the version is far from its date (v25.0), then it is current and /ready has nothing to say', () => {
    const status = graphVersionStatus('v25.0', TODAY);
    expect(status.state).toBe('current');
    expect(graphVersionReadiness(status)).toBeNull();
  });

  it('when the version expires within 60 days (v21.0, 51 days), then it is expiring and /ready lists it without failing', () => {
    const status = graphVersionStatus('v21.0', TODAY);
    expect(status).toEqual({ version: 'v21.0', state: 'expiring', expires: '2027-01-21', daysLeft: 51 });
    expect(graphVersionReadiness(status)).toEqual({ issue: 'graph_version_expiring', failsReadiness: false });
  });

  it('when the date has passed (v20.0, 2026-09-24), then it is expired and /ready fails', () => {
    const status = graphVersionStatus('v20.0', TODAY);
    expect(status).toEqual({ version: 'v20.0', state: 'expired', expires: '2026-09-24', daysLeft: -68 });
    expect(graphVersionReadiness(status)).toEqual({ issue: 'graph_version_expired', failsReadiness: true });
  });

  it('when the version is newer than the table (v28.0), then it is unknown, without a date and without an issue', () => {
    const status = graphVersionStatus('v28.0', TODAY);
    expect(status).toEqual({ version: 'v28.0', state: 'unknown', expires: null, daysLeft: null });
    expect(graphVersionReadiness(status)).toBeNull();
  });

  it('when Meta has set no date yet (v26.0), then it says so and raises nothing', () => {
    const status = graphVersionStatus('v26.0', TODAY);
    expect(status).toEqual({ version: 'v26.0', state: 'expiry_not_set', expires: null, daysLeft: null });
    expect(graphVersionReadiness(status)).toBeNull();
  });

  it('when the version predates the table (v15.0), then it is expired, bounded by the oldest row', () => {
    const status = graphVersionStatus('v15.0', TODAY);
    expect(status).toMatchObject({ state: 'expired', expires: '2025-05-14', daysLeft: -566 });
    expect(graphVersionReadiness(status)?.failsReadiness).toBe(true);
  });
});

describe('graphVersionStatus at the thresholds (v21.0, available until 2027-01-21)', () => {
  it.each([
    ['2026-10-22', 'current', 91, null],
    ['2026-10-23', 'expiring', 90, null],
    ['2026-11-21', 'expiring', 61, null],
    ['2026-11-22', 'expiring', 60, 'graph_version_expiring'],
    ['2027-01-20', 'expiring', 1, 'graph_version_expiring'],
    ['2027-01-21', 'expired', 0, 'graph_version_expired'],
  ] as const)(
    'when today is %s, then it is %s with %i days left and /ready issue %s',
    (day, state, daysLeft, issue) => {
      const status = graphVersionStatus('v21.0', at(day));
      expect(status).toMatchObject({ state, daysLeft });
      expect(graphVersionReadiness(status)?.issue ?? null).toBe(issue);
    },
  );

  it('when the clock is late in the UTC day, then the count is still by calendar day', () => {
    expect(graphVersionStatus('v21.0', new Date('2027-01-20T23:59:59Z')).daysLeft).toBe(1);
    expect(graphVersionStatus('v21.0', new Date('2027-01-21T00:00:00Z')).state).toBe('expired');
  });
});
