import net from 'node:net';

/**
 * A small HTTP/1.1 load generator over raw keep-alive sockets with pre-built request bytes: cheap
 * enough that one Node process can push far more requests than the router under test takes, which
 * `fetch` (≈3k req/s in-process) cannot. It measures from the *intended* send time, so a stalled
 * server shows up as latency instead of silently lowering the offered load (coordinated omission).
 */
export interface Outcome {
  status: number; // 0 = connection error
  latencyMs: number;
}

export interface RequestSpec {
  bytes: Buffer;
  done?: (o: Outcome) => void;
}

export interface LoadStats {
  sent: number;
  statuses: Record<string, number>;
  latencies: number[];
  elapsedMs: number;
}

export function buildRequest(path: string, body: Buffer, headers: Record<string, string>, host = '127.0.0.1'): Buffer {
  const head =
    `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\nContent-Length: ${body.length}\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** One keep-alive connection with one request in flight at a time. */
class Conn {
  private socket: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private pending: { startedAt: number; spec: RequestSpec } | null = null;
  busy = false;
  dead = false;

  constructor(
    private readonly port: number,
    private readonly host: string,
    private readonly onOutcome: (o: Outcome, spec: RequestSpec) => void,
  ) {
    this.socket = this.open();
  }

  private open(): net.Socket {
    const s = net.connect(this.port, this.host);
    s.setNoDelay(true);
    s.on('data', (d: Buffer) => this.onData(d));
    s.on('error', () => this.fail());
    s.on('close', () => this.fail());
    return s;
  }

  send(spec: RequestSpec, startedAt: number): void {
    this.busy = true;
    this.pending = { startedAt, spec };
    if (this.dead) {
      this.dead = false;
      this.buf = Buffer.alloc(0);
      this.socket = this.open();
    }
    this.socket.write(spec.bytes);
  }

  private fail(): void {
    this.dead = true;
    const p = this.pending;
    this.pending = null;
    this.busy = false;
    if (p) this.onOutcome({ status: 0, latencyMs: performance.now() - p.startedAt }, p.spec);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      const status = Number(head.slice(9, 12));
      const m = /content-length:\s*(\d+)/i.exec(head);
      const len = m ? Number(m[1]) : 0;
      if (this.buf.length < end + 4 + len) return;
      this.buf = this.buf.subarray(end + 4 + len);
      const p = this.pending;
      this.pending = null;
      this.busy = false;
      if (/connection:\s*close/i.test(head)) {
        this.dead = true;
        this.socket.destroy();
      }
      if (p) this.onOutcome({ status, latencyMs: performance.now() - p.startedAt }, p.spec);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Open loop: requests leave at `rate` per second whatever the server does, over a pool of up to
 * `maxConnections` keep-alive connections (a request waits for an idle one; that wait counts in its
 * latency). `next()` returns the next request or null when the schedule is exhausted.
 */
export async function openLoop(args: {
  port: number;
  host?: string;
  rate: number;
  durationMs: number;
  maxConnections: number;
  next: () => RequestSpec | null;
}): Promise<LoadStats> {
  const host = args.host ?? '127.0.0.1';
  const stats: LoadStats = { sent: 0, statuses: {}, latencies: [], elapsedMs: 0 };
  const conns: Conn[] = [];
  const idle: Conn[] = [];
  const backlog: { spec: RequestSpec; intended: number }[] = [];
  let outstanding = 0;
  let finished = false;
  let resolveDone: () => void = () => undefined;
  const allDone = new Promise<void>((r) => (resolveDone = r));

  const dispatch = () => {
    while (backlog.length > 0) {
      let c = idle.pop();
      if (!c && conns.length < args.maxConnections) {
        c = new Conn(args.port, host, onOutcome);
        conns.push(c);
      }
      if (!c) return;
      const item = backlog.shift()!;
      c.send(item.spec, item.intended);
      const conn = c;
      connOf.set(item.spec, conn);
    }
  };
  const connOf = new WeakMap<RequestSpec, Conn>();
  function onOutcome(o: Outcome, spec: RequestSpec) {
    stats.statuses[o.status] = (stats.statuses[o.status] ?? 0) + 1;
    stats.latencies.push(o.latencyMs);
    spec.done?.(o);
    outstanding -= 1;
    const c = connOf.get(spec);
    if (c) idle.push(c);
    dispatch();
    if (finished && outstanding === 0) resolveDone();
  }

  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - t0;
      // Request k is due at k/rate (k from 0), so floor(elapsed·rate) + 1 requests are due by now.
      const due = Math.min(
        Math.floor((elapsed / 1000) * args.rate) + 1,
        Math.floor((args.durationMs / 1000) * args.rate),
      );
      while (stats.sent < due) {
        const spec = args.next();
        if (!spec) break;
        const intended = t0 + (stats.sent / args.rate) * 1000;
        stats.sent += 1;
        outstanding += 1;
        backlog.push({ spec, intended });
      }
      dispatch();
      if (elapsed >= args.durationMs) {
        resolve();
        return;
      }
      setTimeout(tick, 2);
    };
    tick();
  });
  finished = true;
  if (outstanding > 0) await allDone;
  stats.elapsedMs = performance.now() - t0;
  for (const c of conns) c.close();
  return stats;
}

/** Closed loop: `connections` clients each send the next request as soon as the previous answered. */
export async function closedLoop(args: {
  port: number;
  host?: string;
  connections: number;
  durationMs: number;
  next: () => RequestSpec;
  /** Stop early once this says so (checked before every send). */
  stopWhen?: () => boolean;
}): Promise<LoadStats> {
  const host = args.host ?? '127.0.0.1';
  const stats: LoadStats = { sent: 0, statuses: {}, latencies: [], elapsedMs: 0 };
  const t0 = performance.now();
  const stopAt = t0 + args.durationMs;
  let running = args.connections;
  await new Promise<void>((resolve) => {
    const start = (c: Conn) => {
      if (performance.now() >= stopAt || args.stopWhen?.()) {
        c.close();
        running -= 1;
        if (running === 0) resolve();
        return;
      }
      stats.sent += 1;
      c.send(args.next(), performance.now());
    };
    for (let i = 0; i < args.connections; i++) {
      const c: Conn = new Conn(args.port, host, (o, spec) => {
        stats.statuses[o.status] = (stats.statuses[o.status] ?? 0) + 1;
        stats.latencies.push(o.latencyMs);
        spec.done?.(o);
        start(c);
      });
      start(c);
    }
  });
  stats.elapsedMs = performance.now() - t0;
  return stats;
}
