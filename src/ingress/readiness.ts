import type { Config } from '../config.js';
import { graphVersionReadiness, type GraphVersionStatus } from '../outbound/graph-version-status.js';
import type { Db } from '../store/db.js';
import { isNoSpace } from '../store/no-space-watch.js';

export interface ReadinessDeps {
  config: Config;
  db: Db;
  /** Extra readiness checks contributed by other parts (queue, Graph circuit…). */
  checks?: (() => Promise<string[]>)[];
  /** Where WHATSAPP_API_VERSION stands against Meta's expiry dates, read at each request. */
  graphVersion?: () => GraphVersionStatus;
}

export interface ReadinessReport {
  status: 'ok' | 'degraded';
  issues: string[];
  graphVersion?: GraphVersionStatus;
}

/** What `GET /ready` answers and `pm2 trigger psi-router readiness` prints: one report, two doors. */
export async function readinessReport(deps: ReadinessDeps): Promise<ReadinessReport> {
  const issues: string[] = [];
  try {
    await deps.db.ping();
  } catch (err) {
    // A full disk still answers reads, but refuses every batch: name it, so nobody hunts the network.
    issues.push(isNoSpace(err) ? 'database_disk_full' : 'database_unreachable');
  }
  if (!deps.config.WHATSAPP_ACCESS_TOKEN) issues.push('whatsapp_token_missing');
  for (const check of deps.checks ?? []) issues.push(...(await check().catch(() => ['check_failed'])));
  let failing = issues.length > 0;
  // The version's issue may be a warning only (expiring): it is listed, but readiness holds.
  const graphVersion = deps.graphVersion?.();
  const versionIssue = graphVersion ? graphVersionReadiness(graphVersion) : null;
  if (versionIssue) {
    issues.push(versionIssue.issue);
    failing ||= versionIssue.failsReadiness;
  }
  return { status: failing ? 'degraded' : 'ok', issues, ...(graphVersion ? { graphVersion } : {}) };
}
