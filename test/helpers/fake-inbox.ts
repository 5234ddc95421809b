import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export interface InboxDelivery {
  path: string;
  event: string | undefined;
  signatureValid: boolean;
  /** The raw X-Psi-Router-Signature header. */
  signature: string;
  body: Record<string, unknown>;
}

/**
 * Stands in for an area's n8n webhook: records every POST, checks the router's HMAC signature and
 * answers with whatever status the test asks for next (default 200).
 */
export interface FakeInbox {
  url: string;
  deliveries: InboxDelivery[];
  /** Statuses for the next requests, in order (e.g. [500, 500] then 200s). */
  failNext(...statuses: number[]): void;
  waitFor(n: number, timeoutMs?: number): Promise<InboxDelivery[]>;
  close(): Promise<void>;
}

/**
 * The receiver's check, written here independently of the router's code: `t=<unix s>,v1=<hex>`,
 * v1 = HMAC-SHA256(secret, "<t>.<raw body>"), and t no more than five minutes from now.
 */
function signatureValid(header: string, raw: Buffer, secret: string): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const t = Number(match[1]);
  if (Math.abs(Date.now() / 1000 - t) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.`).update(raw).digest();
  return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
}

export async function startFakeInbox(secret: string): Promise<FakeInbox> {
  const deliveries: InboxDelivery[] = [];
  const scripted: number[] = [];
  let waiters: { n: number; resolve: (d: InboxDelivery[]) => void }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const status = scripted.shift() ?? 200;
      if (status === 200) {
        deliveries.push({
          path: req.url ?? '',
          event: req.headers['x-psi-router-event'] as string | undefined,
          signatureValid: signatureValid(String(req.headers['x-psi-router-signature'] ?? ''), raw, secret),
          signature: String(req.headers['x-psi-router-signature'] ?? ''),
          body: JSON.parse(raw.toString('utf8')) as Record<string, unknown>,
        });
        waiters = waiters.filter((w) => {
          if (deliveries.length >= w.n) {
            w.resolve(deliveries.slice());
            return false;
          }
          return true;
        });
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    deliveries,
    failNext: (...statuses) => scripted.push(...statuses),
    waitFor(n, timeoutMs = 10_000) {
      if (deliveries.length >= n) return Promise.resolve(deliveries.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`expected ${n} inbox deliveries, got ${deliveries.length}`)),
          timeoutMs,
        );
        waiters.push({ n, resolve: (d) => (clearTimeout(timer), resolve(d)) });
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
