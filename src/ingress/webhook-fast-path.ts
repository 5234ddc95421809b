import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { RouterMetrics } from '../observability/metrics.js';
import { countWebhookOutcome } from '../observability/observers.js';
import { errorReply } from './error-handler.js';
import { readBody } from './read-body.js';
import { requestIdFrom } from './request-id.js';
import { webhookAcknowledger, type WebhookAckDeps } from './webhook-ack.js';
import { WEBHOOK_PATHS } from './webhook-routes.js';

export interface FastPathDeps extends WebhookAckDeps {
  metrics: RouterMetrics;
}

/**
 * Meta's webhook POSTs (about three per routed message: the message and its sent/delivered/read
 * statuses) on plain node:http: Express's routing, body parser and response helpers were a sizeable
 * share of the router's CPU per request. The answer is the one the Express route gives, byte for byte
 * (same core, same error reply); anything this path does not take goes to `fallback` untouched.
 */
export function withWebhookFastPath(fallback: RequestListener, deps: FastPathDeps): RequestListener {
  const log = deps.log.child({ module: 'webhook' });
  const acknowledge = webhookAcknowledger({ ...deps, log });
  const limit = deps.config.WEBHOOK_BODY_LIMIT;

  const serve = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const requestId = requestIdFrom(headerOf(req, 'x-request-id'));
    res.setHeader('X-Request-Id', requestId);
    countWebhookOutcome(deps.metrics, res);
    try {
      const body = await readBody(req, limit);
      const ack = await acknowledge(body, headerOf(req, 'x-hub-signature-256'), requestId);
      sendJson(res, 200, ack.body);
      ack.afterAnswer();
    } catch (err) {
      // Logged like Express's error handler logs it (its root logger), then answered if still possible.
      const reply = errorReply(err, deps.log, requestId, path);
      if (res.headersSent || req.socket.destroyed) return;
      for (const [name, value] of reply.headers) res.setHeader(name, value);
      sendJson(res, reply.status, reply.body);
    }
  };

  return (req, res) => {
    const path = fastWebhookPath(req);
    if (path === null) {
      fallback(req, res);
      return;
    }
    deps.metrics.webhookFastPath.inc();
    void serve(req, res, path);
  };
}

/**
 * The webhook path this request is for, when the fast path can take it from the request line and
 * headers alone: a POST to exactly one of WEBHOOK_PATHS (query ignored) with an identity body.
 * Compressed bodies (body-parser inflates them), other spellings of the path (Express matches them
 * case-insensitively and with a trailing slash) and everything else stay with Express.
 */
export function fastWebhookPath(req: IncomingMessage): string | null {
  if (req.method !== 'POST') return null;
  const url = req.url ?? '';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (!WEBHOOK_PATHS.includes(path)) return null;
  // body-parser reads a missing or empty header as identity, case-insensitively.
  const encoding = req.headers['content-encoding'];
  if (encoding && encoding.toLowerCase() !== 'identity') return null;
  return path;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** What Express's `res.status(status).json(body)` writes here (no ETag: app.ts turns it off). */
function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', String(bytes.length));
  res.end(bytes);
}
