import pg from 'pg';
import { closedLoop, type ClosedLoopResult } from './closed-loop.js';
import { freshBenchDatabase } from './bench-db.js';
import { CpuMeter, postgresPids, selfCpuMs } from './cpu.js';
import { startNode } from './processes.js';
import { SECRET, startOutside } from './ramp.js';
import { round } from './stats.js';
import { resetStatements, topStatements, type StatementFigure } from './pg-statements.js';
import { freePort } from '../../test/helpers/start-router.js';

export interface CpuPhaseResult extends ClosedLoopResult {
  /** CPU ms per inbound message, from /proc (utime + stime). */
  routerMsPerMsg: number;
  postgresMsPerMsg: number;
  /** The load generator and the in-process Graph simulator. */
  loadMsPerMsg: number;
  /** The same, per reply accepted by the simulator. */
  routerMsPerReply: number;
  postgresMsPerReply: number;
  peakRssMiB: number;
  /** Top statements by execution time, when PostgreSQL preloads pg_stat_statements. */
  statements?: StatementFigure[];
}

/**
 * CPU per routed message at saturation (issue 12's yardstick): a direct-mode router with Meta's
 * upgraded per-number rate, a closed loop of `customers`, and the CPU of the router, of the
 * benchmark database's PostgreSQL processes and of this process read from /proc around the run.
 */
export async function cpuPerMessage(
  env: (databaseUrl: string, port: number) => Record<string, string>,
  customers: number,
  seconds: number,
  nodeArgs: string[] = [],
): Promise<CpuPhaseResult> {
  const databaseUrl = await freshBenchDatabase();
  const port = await freePort();
  const outside = await startOutside(port);
  const api = await startNode(
    'api',
    {
      ...env(databaseUrl, port),
      WHATSAPP_API_URL: outside.sim.url,
      GRAPH_RATE_PER_SECOND: '1000',
    },
    nodeArgs,
  );
  try {
    // Warm-up: connections, prepared statements, JIT — not part of the figure.
    await closedLoop({ port, outside, secret: SECRET, customers, seconds: 2, phonePrefix: '5491140' });
    const profiled = await resetStatements();
    const router = new CpuMeter(() => [api.child.pid!]);
    // One connection asks for the backends all run long (a new one per sample would be a backend too).
    const asker = new pg.Client({ connectionString: databaseUrl });
    await asker.connect();
    const postgres = new CpuMeter(() => postgresPids(asker));
    await router.start();
    await postgres.start();
    const self = process.cpuUsage();
    const r = await closedLoop({ port, outside, secret: SECRET, customers, seconds, phonePrefix: '5491141' });
    const routerMs = await router.stop();
    const postgresMs = await postgres.stop();
    await asker.end();
    const loadMs = selfCpuMs(self);
    const perMsg = (ms: number) => round(ms / Math.max(1, r.messages), 3);
    const perReply = (ms: number) => round(ms / Math.max(1, r.replies), 3);
    return {
      ...r,
      routerMsPerMsg: perMsg(routerMs),
      postgresMsPerMsg: perMsg(postgresMs),
      loadMsPerMsg: perMsg(loadMs),
      routerMsPerReply: perReply(routerMs),
      postgresMsPerReply: perReply(postgresMs),
      peakRssMiB: round(api.peakRssMiB(), 0),
      ...(profiled ? { statements: await topStatements(r.messages) } : {}),
    };
  } finally {
    await api.stop();
    await outside.close();
  }
}
