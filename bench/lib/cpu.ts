import { readFileSync } from 'node:fs';
import { withBenchClient, BENCH_DATABASE } from './bench-db.js';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on Linux). */
const HZ = 100;

/** utime + stime of one process in ms, or null when it is gone. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), counted from field 3.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / HZ;
  } catch {
    return null;
  }
}

/**
 * The PostgreSQL processes that work for the benchmark: the backends connected to its database,
 * plus the server's own background processes (WAL writer, checkpointer, …: they work for every
 * commit). Backends of other databases on the same server are left out, so the figure is the
 * benchmark's even when something else uses the server.
 */
export async function postgresPids(): Promise<number[]> {
  return withBenchClient(async (c) => {
    const r = await c.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
        WHERE (datname = $1 AND pid <> pg_backend_pid()) OR (datname IS NULL AND backend_type <> 'autovacuum worker')`,
      [BENCH_DATABASE],
    );
    return r.rows.map((x) => x.pid);
  });
}

/** CPU ms spent by a set of processes between `start()` and `stop()`; processes found late count from then. */
export class CpuMeter {
  private readonly base = new Map<number, number>();

  constructor(private readonly pids: () => Promise<number[]> | number[]) {}

  async start(): Promise<void> {
    for (const pid of await this.pids()) {
      const ms = processCpuMs(pid);
      if (ms !== null) this.base.set(pid, ms);
    }
  }

  /** Total CPU ms since start of the processes alive now (and known at start). */
  async stop(): Promise<number> {
    let total = 0;
    for (const pid of new Set([...this.base.keys(), ...(await this.pids())])) {
      const now = processCpuMs(pid);
      const before = this.base.get(pid);
      if (now !== null && before !== undefined) total += now - before;
    }
    return total;
  }
}

/** CPU ms of this process (the load generator and the in-process simulator) since `from`. */
export function selfCpuMs(from: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1000;
}
