import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  /** Status line and header lines as sent, minus Date (the one line two answers may differ in). */
  head: string[];
  headers: Record<string, string>;
  body: string;
}

/**
 * One keep-alive HTTP/1.1 connection driven by hand: the test decides what bytes go out and when,
 * and reads each answer as it arrives (e.g. before a declared body was ever sent).
 */
export class RawConnection {
  private buffered = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => undefined);
  }

  static open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** The next complete answer on this connection (Content-Length framed, as every answer here is). */
  async response(): Promise<RawResponse> {
    for (;;) {
      const parsed = this.take();
      if (parsed) return parsed;
      if (this.closed) throw new Error('connection closed before a complete answer');
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = null;
    }
  }

  private take(): RawResponse | null {
    const end = this.buffered.indexOf('\r\n\r\n');
    if (end === -1) return null;
    const lines = this.buffered.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (this.buffered.length < end + 4 + length) return null;
    const body = this.buffered.subarray(end + 4, end + 4 + length).toString('utf8');
    this.buffered = this.buffered.subarray(end + 4 + length);
    return {
      status: Number(lines[0]!.split(' ')[1]),
      head: lines.filter((line) => !/^date:/i.test(line)),
      headers,
      body,
    };
  }
}

/** A request head (CRLF-framed) for a raw connection. */
export function requestHead(method: string, path: string, headers: Record<string, string | number>): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return lines.join('\r\n') + '\r\n\r\n';
}
