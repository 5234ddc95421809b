import { createServer } from 'node:http';
import { verifySignature } from '../src/webhook/verify-signature.js';

/**
 * The HTTP ceiling: a bare node:http server doing only what the router's ack path must do before
 * storage — read the body, check the HMAC signature, JSON.parse — and answer 200. The router's
 * webhook throughput is compared against this.
 */
const secret = process.env.BARE_SECRET ?? 'bench-secret';
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    try {
      verifySignature(body, req.headers['x-hub-signature-256'] as string | undefined, [secret]);
      JSON.parse(body.toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 }).end('{}');
    } catch {
      res.writeHead(401, { 'content-length': 0 }).end();
    }
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ msg: 'bare listening', port: typeof address === 'object' && address ? address.port : 0 })}\n`,
  );
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
