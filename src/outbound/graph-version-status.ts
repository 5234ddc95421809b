import { GRAPH_API_VERSIONS, type GraphApiVersion } from './graph-versions.js';

/** From this many days before the expiry the router logs a warning, at start and once a day. */
export const WARN_LOG_DAYS = 90;
/** From this many days before the expiry /ready reports `graph_version_expiring` (still 200). */
export const READY_WARN_DAYS = 60;

/**
 * current        — the expiry is more than WARN_LOG_DAYS away.
 * expiring       — within WARN_LOG_DAYS.
 * expired        — the date has come: Meta no longer promises the version answers.
 * expiry_not_set — in Meta's table, "TBD" (the newest versions).
 * unknown        — not in this release's table (newer than it, or not a version Meta published).
 */
export type GraphVersionState = 'current' | 'expiring' | 'expired' | 'expiry_not_set' | 'unknown';

export interface GraphVersionStatus {
  version: string;
  state: GraphVersionState;
  /**
   * YYYY-MM-DD, Meta's "Available Until"; null without one. For a version older than every row,
   * the oldest row's date: versions expire in release order, so it was gone by then at the latest.
   */
  expires: string | null;
  /** Whole days from today (UTC) to `expires`; 0 or less once expired; null without a date. */
  daysLeft: number | null;
}

export type GraphVersionIssue = 'graph_version_expiring' | 'graph_version_expired';

const DAY_MS = 86_400_000;

/** Where `version` stands on `now`, by Meta's published dates. Pure: the clock is an argument. */
export function graphVersionStatus(
  version: string,
  now: Date,
  table: readonly GraphApiVersion[] = GRAPH_API_VERSIONS,
): GraphVersionStatus {
  const row = table.find((r) => r.version === version) ?? olderThanEveryRow(version, table);
  if (!row) return { version, state: 'unknown', expires: null, daysLeft: null };
  if (row.expires === null) return { version, state: 'expiry_not_set', expires: null, daysLeft: null };
  const daysLeft = daysUntil(row.expires, now);
  const state: GraphVersionState = daysLeft <= 0 ? 'expired' : daysLeft <= WARN_LOG_DAYS ? 'expiring' : 'current';
  return { version, state, expires: row.expires, daysLeft };
}

/**
 * What /ready makes of a status: an expired version fails readiness (every Cloud API call is at
 * Meta's mercy); one within READY_WARN_DAYS is reported but keeps the 200, so an operator sees it
 * weeks ahead without a load balancer pulling a router that still works.
 */
export function graphVersionReadiness(
  status: GraphVersionStatus,
): { issue: GraphVersionIssue; failsReadiness: boolean } | null {
  if (status.state === 'expired') return { issue: 'graph_version_expired', failsReadiness: true };
  if (status.daysLeft !== null && status.daysLeft <= READY_WARN_DAYS)
    return { issue: 'graph_version_expiring', failsReadiness: false };
  return null;
}

/**
 * Meta gives a date, not an instant; the date is counted as the first day the version no longer
 * works, so the alarm is never late (a day early at most).
 */
function daysUntil(date: string, now: Date): number {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Math.round((Date.parse(`${date}T00:00:00Z`) - today) / DAY_MS);
}

/** The table's oldest row when `version` predates it (so it expired by that row's date), else undefined. */
function olderThanEveryRow(version: string, table: readonly GraphApiVersion[]): GraphApiVersion | undefined {
  const oldest = table.at(-1);
  const wanted = parseVersion(version);
  const floor = oldest ? parseVersion(oldest.version) : null;
  if (!oldest || !wanted || !floor) return undefined;
  const older = wanted.major < floor.major || (wanted.major === floor.major && wanted.minor < floor.minor);
  return older ? oldest : undefined;
}

function parseVersion(version: string): { major: number; minor: number } | null {
  const match = /^v(\d+)\.(\d+)$/.exec(version);
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : null;
}
