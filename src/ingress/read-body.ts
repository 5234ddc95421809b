import type { IncomingMessage } from 'node:http';

/**
 * Errors shaped like raw-body's (type, status), so error-handler.ts maps a body the fast path
 * refuses exactly as it maps the same refusal from Express's body parser.
 */
function bodyError(type: 'entity.too.large' | 'request.aborted', status: number, message: string): Error {
  return Object.assign(new Error(message), { type, status, expose: true });
}

/** The Content-Length the client declared (Node has already checked it is a number), or null. */
function declaredLength(req: IncomingMessage): number | null {
  const header = req.headers['content-length'];
  return header === undefined ? null : Number(header);
}

/**
 * The whole request body as one Buffer, at most `limit` bytes. A declared length over the limit is
 * refused before a byte is read; a body without one is refused the moment it crosses the limit. In
 * both cases the rest is read off and discarded (as body-parser does) so the connection stays usable
 * for the next request; an aborted upload rejects rather than leaving the promise pending.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = declaredLength(req);
  if (declared !== null && declared > limit) {
    req.resume();
    return Promise.reject(bodyError('entity.too.large', 413, 'request entity too large'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      reject(err);
    };
    // Still flowing after a refusal: what follows is discarded, not kept.
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > limit) fail(bodyError('entity.too.large', 413, 'request entity too large'));
      else chunks.push(chunk);
    });
    req.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    });
    // 'close' follows 'end' on every request: an Error (and its stack) only for a body cut short.
    const aborted = () => {
      if (!settled) fail(bodyError('request.aborted', 400, 'request aborted'));
    };
    req.once('error', aborted);
    req.once('close', aborted);
  });
}
