import type { Server } from 'node:http';
import pino from 'pino';
import type { Config } from '../../src/config.js';
import { buildLoggerOptions } from '../../src/logger.js';
import type { MessageHandler } from '../../src/conversations/message-handler.js';
import type { Db } from '../../src/store/db.js';
import { createRuntime, listen, type Runtime } from '../../src/start/runtime.js';
import { createShutdown } from '../../src/start/shutdown.js';
import { signBody } from '../../src/webhook/verify-signature.js';
import { TEST_APP_SECRET } from './test-config.js';

export interface RunningRouter {
  url: string;
  runtime: Runtime;
  /** POSTs a body to /webhook signed with the test secret (or as told). */
  postWebhook(body: unknown, options?: PostOptions): Promise<Response>;
  /** Waits until every event this process scheduled has been processed. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export interface PostOptions {
  path?: string;
  secret?: string | null;
  signature?: string;
  raw?: boolean;
  headers?: Record<string, string>;
}

/** Boots the real router (same wiring as `npm start`) on a free port. */
export async function startRouter(
  config: Config,
  options: {
    db?: Db;
    handler?: MessageHandler;
    sweeper?: boolean;
    sender?: boolean;
    media?: boolean;
    port?: number;
    logLines?: string[];
    now?: () => Date;
  } = {},
): Promise<RunningRouter> {
  // With logLines the router logs through the production options (redaction included) into the array.
  const log = options.logLines
    ? pino(
        { ...buildLoggerOptions(config.LOG_LEVEL === 'silent' ? 'info' : config.LOG_LEVEL) },
        { write: (line: string) => void options.logLines!.push(line) },
      )
    : pino({ level: config.LOG_LEVEL });
  const runtime = await createRuntime(config, log, options);
  const server: Server = await listen(runtime.app, options.port ?? 0, '127.0.0.1');
  if (runtime.config.QUEUE_MODE === 'off') {
    if (options.sweeper !== false) runtime.processor.start();
    if (options.sender !== false) runtime.sender.start();
    if (options.media !== false) runtime.media?.start();
    runtime.graphVersion.start();
  } else {
    runtime.startBackground();
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  const shutdown = createShutdown(runtime, server, log);
  return {
    url,
    runtime,
    postWebhook: (body, opts = {}) => postSigned(url, body, opts),
    idle: () => runtime.processor.whenIdle(),
    stop: () => shutdown('test'),
  };
}

export async function postSigned(baseUrl: string, body: unknown, opts: PostOptions = {}): Promise<Response> {
  const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
  const secret = opts.secret === undefined ? TEST_APP_SECRET : opts.secret;
  if (opts.signature !== undefined) headers['x-hub-signature-256'] = opts.signature;
  else if (secret !== null) headers['x-hub-signature-256'] = signBody(raw, secret);
  return fetch(baseUrl + (opts.path ?? '/webhook'), { method: 'POST', headers, body: raw });
}

/** The JSON bodies the router answers with, loosely typed for assertions. */
export interface ApiBody {
  error: { code: string; message: string };
  issues: string[];
  status: string;
  received: number;
  stored: number;
  duplicates: number;
}

export async function readJson(res: Response): Promise<ApiBody> {
  return (await res.json()) as ApiBody;
}

/** A port that was free a moment ago (for wiring two servers that must know each other's URL). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
