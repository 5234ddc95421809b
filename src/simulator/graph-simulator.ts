/**
 * A local stand-in for Meta's Graph API send side (WhatsApp Cloud API), behaving like Meta at the
 * HTTP boundary: Bearer auth, Meta's validation and error bodies, wamids, signed status webhooks,
 * plus scripted failures and a "down" switch for tests and the benchmark. Quiet by design: no
 * per-request logging, so it never becomes the bottleneck it is meant to measure around.
 */
import { inboundEnvelope } from './inbound-envelope.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_GRAPH_API_VERSION } from '../outbound/graph-versions.js';
import { registerControlRoutes } from './control-routes.js';
import { BodyTooLargeError, sendJson } from './http-io.js';
import { SAMPLE_PHONE_NUMBER_ID, toWaId } from './ids.js';
import { invalidTokenBody, metaErrorBody, unknownPathBody } from './meta-error-bodies.js';
import { MediaLibrary } from './media-library.js';
import { registerMediaRoutes } from './media-routes.js';
import { RouteTable, type RouteContext, type RouteKit } from './route-table.js';
import { registerSendRoute } from './send-route.js';
import { createState, reject, resetState, type SimulatorState } from './simulator-state.js';
import { StatusWebhookSender } from './status-webhooks.js';
import type { GraphSimulator, GraphSimulatorOptions, PostStatusOptions, StatusName } from './types.js';

// One import for users of the simulator (tests, benchmark, CLI).
export { metaFailure, metaFailures } from './meta-error-bodies.js';
export { RouteTable } from './route-table.js';
export type { ParamTest, RouteContext, RouteHandler, RouteKit, RouteRegistrar, RouteSpec } from './route-table.js';
export type * from './types.js';

const ANY_VERSION = /^v\d+\.\d+$/;
/** messagesUrl() without a version uses the router's default, so tests and the router agree. */
const DEFAULT_VERSION = DEFAULT_GRAPH_API_VERSION;
const DEFAULT_WAIT_MS = 5_000;
/** Meta's media download URLs stop working after about five minutes. */
const DEFAULT_MEDIA_URL_TTL_MS = 5 * 60_000;

export async function startGraphSimulator(options: GraphSimulatorOptions): Promise<GraphSimulator> {
  const closing = new AbortController();
  const webhooks = options.statusWebhook
    ? new StatusWebhookSender(options.statusWebhook, closing.signal, options.maxRecorded)
    : null;
  const state = createState({
    accessToken: options.accessToken,
    latencyMs: options.latencyMs ?? 0,
    maxRecorded: options.maxRecorded,
    webhooks,
  });
  const kit = routeKit(options, state, closing.signal);
  const media = new MediaLibrary(options.mediaUrlTtlMs ?? DEFAULT_MEDIA_URL_TTL_MS);
  const routes = new RouteTable();
  let simulator: GraphSimulator | undefined;
  registerControlRoutes(routes, () => simulator as GraphSimulator);
  for (const register of options.routes ?? []) register(routes, kit);
  registerMediaRoutes(routes, kit, state, media);
  registerSendRoute(routes, kit, state);

  const server = createServer((req, res) => dispatch(routes, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address, family } = server.address() as AddressInfo;
  const host = family === 'IPv6' ? `[${address}]` : address;
  const url = `http://${host}:${port}`;

  let closed: Promise<void> | null = null;
  simulator = {
    url,
    port,
    messagesUrl: (phoneNumberId, version) =>
      `${url}/${version ?? options.version ?? DEFAULT_VERSION}/${encodeURIComponent(phoneNumberId)}/messages`,
    get sent() {
      return state.sent.items;
    },
    get requests() {
      return state.requests;
    },
    get rejected() {
      return state.rejected.items;
    },
    get webhookFailures() {
      return webhooks?.failures.items ?? [];
    },
    routes,
    script: (...failures) => {
      state.script.push(...failures);
    },
    setDown: (down, how = '503') => {
      state.down = down ? how : null;
    },
    postStatus: (wamid, status, opts) => postStatus(state, wamid, status, opts),
    postInbound: async (input, opts = {}) => {
      if (!state.webhooks) throw new Error('postInbound needs the statusWebhook option');
      const { envelope, wamid } = inboundEnvelope(state.webhooks.envelopeIds, input, {
        phoneNumberId: opts.phoneNumberId ?? SAMPLE_PHONE_NUMBER_ID,
        ...(opts.name !== undefined ? { name: opts.name } : {}),
        ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
      });
      return { wamid, ...(await state.webhooks.postEnvelope(envelope)) };
    },
    waitForSent: (n, timeoutMs = DEFAULT_WAIT_MS) => state.sent.waitFor(n, timeoutMs, 'sends'),
    statusWebhooksIdle: () => webhooks?.idle() ?? Promise.resolve(),
    stats: () => ({
      requests: { ...state.requests },
      sent: state.sent.count,
      rejected: state.rejected.count,
      scriptPending: state.script.length,
      down: state.down,
      webhooks: webhooks?.counts() ?? { ok: 0, failed: 0, inFlight: 0 },
      media: { ...media.counters, stored: media.size },
    }),
    addMedia: (input) => media.add(input),
    deleteMedia: (id) => media.delete(id),
    expireMediaUrls: () => media.expireUrls(),
    expireNextMediaUrls: (count = 1) => media.expireNextUrls(count),
    get mediaCounters() {
      return media.counters;
    },
    reset: () => {
      resetState(state);
      media.reset();
    },
    close: () => {
      closed ??= (async () => {
        closing.abort();
        state.sent.rejectAll('graph simulator closed');
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // Hanging "timeout" requests and keep-alive sockets would otherwise hold close() forever.
        server.closeAllConnections();
        await stopped;
        await webhooks?.idle();
      })();
      return closed;
    },
  };
  return simulator;
}

function routeKit(options: GraphSimulatorOptions, state: SimulatorState, signal: AbortSignal): RouteKit {
  const expected = `Bearer ${options.accessToken}`;
  const version = options.version;
  return {
    version: version === undefined ? (v) => ANY_VERSION.test(v) : (v) => v === version,
    signal,
    authorize(ctx: RouteContext): boolean {
      // Graph also takes the token as ?access_token=. Plain comparison: this is a test double.
      const header = ctx.req.headers.authorization;
      if (header === expected || (header === undefined && ctx.query.get('access_token') === options.accessToken))
        return true;
      reject(state, ctx.res, 'auth_error', 401, invalidTokenBody());
      return false;
    },
  };
}

function dispatch(routes: RouteTable, req: IncomingMessage, res: ServerResponse): void {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const match = routes.match(req.method ?? 'GET', path);
  if (!match) {
    sendJson(res, 404, unknownPathBody(path));
    return;
  }
  const ctx: RouteContext = {
    req,
    res,
    params: match.params,
    path,
    query: new URLSearchParams(q === -1 ? '' : target.slice(q + 1)),
  };
  let outcome: void | Promise<void>;
  try {
    outcome = match.handler(ctx);
  } catch (err) {
    answerFailure(res, err);
    return;
  }
  if (outcome) outcome.catch((err: unknown) => answerFailure(res, err));
}

/** A handler failed (or the simulator closed under it): answer like Graph would, if still possible. */
function answerFailure(res: ServerResponse, err: unknown): void {
  if (res.headersSent || res.destroyed) return;
  if (err instanceof BodyTooLargeError) {
    sendJson(res, 413, metaErrorBody({ code: 100, details: err.message }));
    return;
  }
  sendJson(
    res,
    500,
    metaErrorBody({ code: 1, title: 'An unknown error occurred', details: (err as Error)?.message ?? String(err) }),
  );
}

function postStatus(state: SimulatorState, wamid: string, status: StatusName, opts: PostStatusOptions = {}) {
  if (!state.webhooks) return Promise.reject(new Error('postStatus needs the statusWebhook option'));
  const recorded = opts.to === undefined || opts.phoneNumberId === undefined ? findSent(state, wamid) : undefined;
  const to = opts.to ?? (recorded ? toWaId(recorded.to) : undefined);
  if (to === undefined) return Promise.reject(new Error(`unknown wamid ${wamid}: pass opts.to`));
  return state.webhooks.post({
    wamid,
    status,
    recipientId: to,
    phoneNumberId: opts.phoneNumberId ?? recorded?.phoneNumberId ?? SAMPLE_PHONE_NUMBER_ID,
    ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
    ...(opts.billing !== undefined ? { billing: opts.billing } : {}),
    ...(opts.errors !== undefined ? { errors: opts.errors } : {}),
  });
}

/** Newest first: on-demand statuses are usually about recent sends. */
function findSent(state: SimulatorState, wamid: string) {
  const items = state.sent.items;
  for (let i = items.length - 1; i >= 0; i--) if (items[i]?.wamid === wamid) return items[i];
  return undefined;
}
