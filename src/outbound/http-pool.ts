import http from 'node:http';
import https from 'node:https';

/**
 * JSON POSTs over kept-alive connections (issue 12: outbound without a connection set-up per send).
 * node:http with one keep-alive agent per protocol instead of fetch: the same pooled sockets, but
 * without the WHATWG stream and AbortSignal machinery fetch builds for every request, which cost
 * more CPU than the send itself at a thousand messages a second.
 */
const AGENT_OPTIONS = { keepAlive: true, maxSockets: 128, maxFreeSockets: 32, scheduling: 'lifo' as const };
const agents = { http: new http.Agent(AGENT_OPTIONS), https: new https.Agent(AGENT_OPTIONS) };

/** Answers longer than this are cut (Meta's are a few hundred bytes; an error page is not worth more). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface PostOptions {
  timeoutMs: number;
  /** Read at most this much of the answer; past it the connection is dropped (default 1 MiB). */
  maxResponseBytes?: number;
}

export interface PostResult {
  status: number;
  text: string;
}

/** The request did not answer within its time; `name` as fetch's, so callers keep one check. */
export class HttpTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

export function postJson(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: PostOptions,
): Promise<PostResult> {
  const { timeoutMs } = options;
  const max = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const send = secure ? https.request : http.request;
  return new Promise<PostResult>((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        agent: secure ? agents.https : agents.http,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).subarray(0, max).toString('utf8') });
        };
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          chunks.push(chunk);
          // An endless answer must not hold the sender: keep what we have, drop the connection.
          if (size >= max) {
            res.removeAllListeners('data');
            res.destroy();
            done();
          }
        });
        res.on('end', done);
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      },
    );
    // One timer for the whole exchange (connect, send, answer), as fetch's AbortSignal.timeout.
    // Settled here, not left to the socket's events: an answer that stalls mid-body must not hang the send.
    const timer = setTimeout(() => {
      const err = new HttpTimeoutError(`no answer within ${timeoutMs} ms`);
      reject(err);
      req.destroy(err);
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}
