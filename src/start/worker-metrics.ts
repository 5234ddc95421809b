import { createServer, type Server } from 'node:http';
import type { Runtime } from './runtime.js';

/** A worker's tiny HTTP face: /metrics for Prometheus and /health for liveness. Nothing else. */
export function serveMetrics(runtime: Runtime, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      runtime.metrics
        .render()
        .then(({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body))
        .catch(() => res.writeHead(500).end());
      return;
    }
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
