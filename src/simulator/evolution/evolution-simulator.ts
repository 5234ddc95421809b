/**
 * A local stand-in for Evolution API's send side, beside the Graph simulator: `POST
 * /message/sendText/{instance}` and `/message/sendMedia/{instance}` with the `apikey` header,
 * Evolution-shaped answers (`{key:{remoteJid, fromMe, id}, message, messageTimestamp, status}`),
 * `messages.update` acks posted back to the router's webhook, and failures on command: HTTP errors,
 * timeouts, a disconnected instance. Used by tests, `npm run simulator` and the benchmark.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, parseJson, sendJson } from '../http-io.js';
import { evolutionMessageKey, flatBody, rawAck, rawUpsert } from './payloads.js';
import { postEvolutionWebhook, type EvolutionAuthMode } from './webhook-poster.js';

export type EvolutionFailure = { kind: 'http_error'; status: number } | { kind: 'timeout' } | { kind: 'disconnected' };

/** Body of `POST /__sim/webhook`. */
interface SimWebhookRequest {
  instance: string;
  from: string;
  text: string;
  shape?: 'raw' | 'flat';
  fromMe?: boolean;
  mode?: EvolutionAuthMode;
}

export interface EvolutionSent {
  instance: string;
  path: 'sendText' | 'sendMedia';
  number: string;
  text: string | null;
  media: { mediatype: string; media: string; caption: string | null; fileName: string | null } | null;
  id: string;
  /** Which credential the call carried: the global apikey or the instance's own token. */
  auth: 'global' | 'instance';
}

export interface EvolutionSimulatorOptions {
  /** Global apikey accepted for every instance. */
  apiKey: string;
  /** Per-instance tokens also accepted for their own instance. */
  instanceKeys?: Record<string, string>;
  host?: string;
  port?: number;
  /**
   * The router's webhook for each instance: acks (SERVER_ACK, DELIVERY_ACK, READ) of every accepted
   * send go there, and so do the messages `POST /__sim/webhook` asks for.
   */
  webhook?: { url: (instance: string) => string; secret: (instance: string) => string; mode?: EvolutionAuthMode };
}

export interface EvolutionSimulator {
  url: string;
  readonly sent: readonly EvolutionSent[];
  /** Send calls received, answered or not. */
  readonly requests: number;
  /** The next calls fail like this, in order. */
  script(failures: EvolutionFailure[]): void;
  /** Accept this token for this instance too (an instance's own apikey). */
  setInstanceKey(instance: string, key: string): void;
  /** A disconnected instance refuses every send (as Evolution does while the phone is offline). */
  setConnected(instance: string, connected: boolean): void;
  waitForSent(count: number, timeoutMs?: number): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

export async function startEvolutionSimulator(options: EvolutionSimulatorOptions): Promise<EvolutionSimulator> {
  const sent: EvolutionSent[] = [];
  let script: EvolutionFailure[] = [];
  let requests = 0;
  const disconnected = new Set<string>();
  const instanceKeys: Record<string, string> = { ...options.instanceKeys };
  const hanging = new Set<ServerResponse>();
  const waiters: { count: number; resolve: () => void }[] = [];
  const notify = () => {
    for (const w of waiters.filter((x) => sent.length >= x.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const control = await controlRoute(req, res, url);
    if (control) return;
    const m = /^\/message\/(sendText|sendMedia)\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'POST' || !m) {
      sendJson(res, 404, { status: 404, error: 'Not Found', response: { message: ['Cannot POST ' + url.pathname] } });
      return;
    }
    const path = m[1] as 'sendText' | 'sendMedia';
    const instance = decodeURIComponent(m[2]!);
    const body = parseJson(await readBody(req)) as Record<string, unknown> | undefined;
    requests += 1;
    const key = req.headers['apikey'];
    if (key !== options.apiKey && (key === undefined || key !== instanceKeys[instance])) {
      sendJson(res, 401, { status: 401, error: 'Unauthorized', response: { message: 'Unauthorized' } });
      return;
    }
    const failure = script.shift();
    if (failure?.kind === 'timeout') {
      hanging.add(res); // never answered: the caller's timeout decides
      res.once('close', () => hanging.delete(res));
      return;
    }
    if (failure?.kind === 'http_error') {
      sendJson(res, failure.status, {
        status: failure.status,
        error: 'Simulated',
        response: { message: ['simulated failure'] },
      });
      return;
    }
    if (failure?.kind === 'disconnected' || disconnected.has(instance)) {
      sendJson(res, 400, { status: 400, error: 'Bad Request', response: { message: ['Connection Closed'] } });
      return;
    }
    const number = typeof body?.['number'] === 'string' ? body['number'] : '';
    const problem = validate(path, body, number);
    if (problem) {
      sendJson(res, 400, { status: 400, error: 'Bad Request', response: { message: [problem] } });
      return;
    }
    const id = evolutionMessageKey();
    const text = path === 'sendText' ? (body!['text'] as string) : null;
    sent.push({
      instance,
      path,
      number,
      text,
      media:
        path === 'sendMedia'
          ? {
              mediatype: String(body!['mediatype']),
              media: String(body!['media']),
              caption: typeof body!['caption'] === 'string' ? body!['caption'] : null,
              fileName: typeof body!['fileName'] === 'string' ? body!['fileName'] : null,
            }
          : null,
      id,
      auth: key === options.apiKey ? 'global' : 'instance',
    });
    notify();
    const remoteJid = number.includes('@') ? number : `${number}@s.whatsapp.net`;
    sendJson(res, 201, {
      key: { remoteJid, fromMe: true, id },
      pushName: '',
      status: 'PENDING',
      message: text !== null ? { conversation: text } : { [`${String(body!['mediatype'])}Message`]: {} },
      messageType: text !== null ? 'conversation' : `${String(body!['mediatype'])}Message`,
      messageTimestamp: Math.floor(Date.now() / 1000),
      instanceId: `inst-${instance}`,
      source: 'unknown',
    });
    if (options.webhook) void postAcks(options.webhook, instance, id, number);
  };

  const controlRoute = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (!url.pathname.startsWith('/__sim/')) return false;
    if (req.method === 'GET' && url.pathname === '/__sim/sent') sendJson(res, 200, { sent });
    else if (req.method === 'POST' && url.pathname === '/__sim/script') {
      script.push(...((parseJson(await readBody(req)) as EvolutionFailure[] | undefined) ?? []));
      sendJson(res, 200, { scripted: script.length });
    } else if (req.method === 'POST' && /^\/__sim\/(dis)?connect\/[^/]+$/.test(url.pathname)) {
      const [, , verb, instance] = url.pathname.split('/');
      simulator.setConnected(decodeURIComponent(instance!), verb === 'connect');
      sendJson(res, 200, { disconnected: [...disconnected] });
    } else if (req.method === 'POST' && url.pathname === '/__sim/webhook' && options.webhook) {
      // A customer (or staff, fromMe) writes to an instance: posted to the router in either shape.
      const o = (parseJson(await readBody(req)) ?? {}) as SimWebhookRequest;
      const body =
        o.shape === 'flat'
          ? flatBody({ telefono: o.from, mensaje: o.text, ...(o.fromMe ? { fromMe: true } : {}) })
          : rawUpsert({ instance: o.instance, from: o.from, text: o.text, fromMe: o.fromMe ?? false });
      const hook = options.webhook;
      const answer = await postEvolutionWebhook(
        hook.url(o.instance),
        body,
        hook.secret(o.instance),
        o.mode ?? hook.mode,
      );
      sendJson(res, 200, { status: answer.status, body });
    } else if (req.method === 'POST' && url.pathname === '/__sim/reset') {
      simulator.reset();
      sendJson(res, 200, { reset: true });
    } else sendJson(res, 404, { error: 'no such control route' });
    return true;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => sendJson(res, 500, { status: 500, error: 'Internal Server Error' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const simulator: EvolutionSimulator = {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    get sent() {
      return sent;
    },
    get requests() {
      return requests;
    },
    script(failures) {
      script.push(...failures);
    },
    setInstanceKey(instance, key) {
      instanceKeys[instance] = key;
    },
    setConnected(instance, connected) {
      if (connected) disconnected.delete(instance);
      else disconnected.add(instance);
    },
    waitForSent(count, timeoutMs = 15_000) {
      if (sent.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const waiter = { count, resolve };
        waiters.push(waiter);
        setTimeout(() => {
          if (waiters.includes(waiter))
            reject(new Error(`only ${sent.length} of ${count} sends within ${timeoutMs} ms`));
        }, timeoutMs).unref();
      });
    },
    reset() {
      sent.length = 0;
      script = [];
      requests = 0;
      disconnected.clear();
      for (const k of Object.keys(instanceKeys)) delete instanceKeys[k];
      Object.assign(instanceKeys, options.instanceKeys);
    },
    async close() {
      for (const res of hanging) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return simulator;
}

function validate(
  path: 'sendText' | 'sendMedia',
  body: Record<string, unknown> | undefined,
  number: string,
): string | null {
  if (!body) return 'body is not JSON';
  if (!/^\d{6,20}$/.test(number) && !/@(s\.whatsapp\.net|g\.us|lid)$/.test(number)) return 'number: invalid';
  if (path === 'sendText')
    return typeof body['text'] === 'string' && body['text'].length > 0 ? null : 'text is required';
  if (!['image', 'document', 'video', 'audio'].includes(String(body['mediatype']))) return 'mediatype: invalid';
  return typeof body['media'] === 'string' && body['media'].length > 0 ? null : 'media is required';
}

/** Evolution reports each send's progress as `messages.update` acks; the simulator does the same. */
async function postAcks(
  acks: NonNullable<EvolutionSimulatorOptions['webhook']>,
  instance: string,
  id: string,
  number: string,
): Promise<void> {
  for (const status of ['SERVER_ACK', 'DELIVERY_ACK', 'READ']) {
    await postEvolutionWebhook(
      acks.url(instance),
      rawAck(instance, id, number, status),
      acks.secret(instance),
      acks.mode,
    ).catch(() => undefined);
  }
}
