import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { BENCH_DATABASE } from './bench-db.js';

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
export async function postgresPids(c: pg.Client): Promise<number[]> {
  const r = await c.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity
      WHERE (datname = $1 AND pid <> pg_backend_pid()) OR (datname IS NULL AND backend_type <> 'autovacuum worker')`,
    [BENCH_DATABASE],
  );
  return r.rows.map((x) => x.pid);
}

/** Seconds since boot, in /proc/<pid>/stat's clock ticks. */
function uptimeTicks(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * HZ;
}

/** utime + stime in ms and the start time in ticks since boot, or null when the process is gone. */
function processSample(pid: number): { ms: number; startTicks: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ms: ((Number(rest[11]) + Number(rest[12])) * 1000) / HZ, startTicks: Number(rest[19]) };
  } catch {
    return null;
  }
}

/**
 * CPU ms spent by a set of processes between `start()` and `stop()`. The set is sampled every
 * `everyMs`: a process that starts during the run (a new pool connection's backend) counts from its
 * birth, and one that exits counts up to its last sample — reading the set only at the two ends
 * would drop every backend a connection pool closed or opened in between.
 */
export class CpuMeter {
  private readonly base = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private startedTicks = 0;

  constructor(
    private readonly pids: () => Promise<number[]> | number[],
    private readonly everyMs = 250,
  ) {}

  async start(): Promise<void> {
    this.startedTicks = uptimeTicks();
    for (const pid of await this.pids()) {
      const s = processSample(pid);
      if (s) {
        this.base.set(pid, s.ms);
        this.last.set(pid, s.ms);
      }
    }
    this.timer = setInterval(() => void this.sample().catch(() => undefined), this.everyMs);
  }

  /** Total CPU ms since start of every process seen in the set meanwhile. */
  async stop(): Promise<number> {
    if (this.timer) clearInterval(this.timer);
    await this.sample();
    let total = 0;
    for (const [pid, ms] of this.last) total += ms - (this.base.get(pid) ?? 0);
    return total;
  }

  private async sample(): Promise<void> {
    for (const pid of new Set([...this.last.keys(), ...(await this.pids())])) {
      const s = processSample(pid);
      if (!s) continue; // gone: its last sample stands
      if (!this.base.has(pid)) {
        // Born during the run: all of its CPU is the run's. Seen late but older: from now on.
        this.base.set(pid, s.startTicks >= this.startedTicks ? 0 : s.ms);
      }
      this.last.set(pid, s.ms);
    }
  }
}

/** CPU ms of this process (the load generator and the in-process simulator) since `from`. */
export function selfCpuMs(from: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1000;
}
