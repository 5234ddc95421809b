import { withBenchClient } from './bench-db.js';
import { round } from './stats.js';

export interface StatementFigure {
  /** Calls per routed message. */
  callsPerMsg: number;
  /** Server execution ms per routed message (pg_stat_statements total_exec_time). */
  execMsPerMsg: number;
  /** Planning ms per routed message (only with pg_stat_statements.track_planning on). */
  planMsPerMsg: number;
  query: string;
}

/**
 * pg_stat_statements around the measured run, when the server preloads it (it needs
 * `shared_preload_libraries`; the figures are skipped, not faked, without it). Profiles the database
 * side the way --cpu-prof profiles the router: which statements, how often, how long per message.
 */
export async function resetStatements(): Promise<boolean> {
  return withBenchClient(async (c) => {
    const pre = await c.query<{ v: string }>(`SELECT current_setting('shared_preload_libraries') AS v`);
    if (!pre.rows[0]!.v.includes('pg_stat_statements')) return false;
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await c.query('SELECT pg_stat_statements_reset()');
    return true;
  });
}

export async function topStatements(messages: number, n = 10): Promise<StatementFigure[]> {
  return withBenchClient(async (c) => {
    const res = await c.query<{ calls: string; ms: number; plan: number; query: string }>(
      `SELECT s.calls::text AS calls, s.total_exec_time AS ms, s.total_plan_time AS plan, s.query
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = current_database()
        ORDER BY s.total_exec_time + s.total_plan_time DESC LIMIT $1`,
      [n],
    );
    const per = Math.max(1, messages);
    return res.rows.map((r) => ({
      callsPerMsg: round(Number(r.calls) / per, 2),
      execMsPerMsg: round(r.ms / per, 3),
      planMsPerMsg: round(r.plan / per, 3),
      query: r.query.replace(/\s+/g, ' ').slice(0, 140),
    }));
  });
}
