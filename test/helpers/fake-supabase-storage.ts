import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local server speaking the part of Supabase Storage's HTTP API that @supabase/supabase-js uses
 * for media, so the real client is exercised over real HTTP (not a mock of the client):
 *   POST /storage/v1/object/{bucket}/{path}        upload (raw body, content-type, x-upsert)
 *   POST /storage/v1/object/sign/{bucket}/{path}   { expiresIn } → { signedURL: "/object/sign/…?token=…" }
 *   GET  /storage/v1/object/sign/{bucket}/{path}?token=…   the bytes behind a signed URL
 *   GET  /storage/v1/object/public/{bucket}/{path}         the bytes of a public bucket's object
 * Every API call needs `Authorization: Bearer <service key>` and `apikey`. Errors have Storage's
 * body shape `{ statusCode, error, message }`; a duplicate upload (x-upsert false) answers 409, or —
 * with `legacyErrors` — HTTP 400 carrying statusCode "409", as older Storage versions do.
 */
export interface StoredObject {
  bytes: Buffer;
  contentType: string;
  /** How many uploads tried to write this path (the first one created it). */
  uploads: number;
}

export interface StorageRequest {
  method: string;
  /** Path without the query (never the token). */
  path: string;
  status: number;
}

export interface FakeSupabaseStorage {
  /** Use as SUPABASE_URL. */
  url: string;
  serviceKey: string;
  /** Keyed `${bucket}/${path}`. */
  objects: Map<string, StoredObject>;
  requests: StorageRequest[];
  createBucket(name: string, options?: { public?: boolean }): void;
  deleteBucket(name: string): void;
  /** Older Storage answered errors with HTTP 400 and the real status in the body. */
  setLegacyErrors(on: boolean): void;
  reset(): void;
  close(): Promise<void>;
}

interface Bucket {
  public: boolean;
}

export async function startFakeSupabaseStorage(
  serviceKey = `service-role-${randomBytes(8).toString('hex')}`,
): Promise<FakeSupabaseStorage> {
  const buckets = new Map<string, Bucket>();
  const objects = new Map<string, StoredObject>();
  const requests: StorageRequest[] = [];
  const tokenSecret = randomBytes(32);
  let legacyErrors = false;

  const sign = (objectPath: string, exp: number) =>
    createHmac('sha256', tokenSecret).update(`${objectPath}\n${exp}`).digest('base64url');

  const fail = (res: ServerResponse, status: number, error: string, message: string) => {
    json(res, legacyErrors ? 400 : status, { statusCode: String(status), error, message });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://storage.local');
    const route = matchRoute(req.method ?? 'GET', url.pathname);
    if (!route) {
      fail(res, 404, 'not_found', 'Route not found');
      return;
    }
    const bucket = buckets.get(route.bucket);
    const objectPath = `${route.bucket}/${route.path}`;
    if (route.kind === 'public') {
      const obj = objects.get(objectPath);
      if (!bucket?.public || !obj) {
        fail(res, 404, 'not_found', 'Object not found');
        return;
      }
      sendObject(res, obj);
      return;
    }
    if (route.kind === 'signed-get') {
      const [expText, sig] = (url.searchParams.get('token') ?? '').split('.');
      const exp = Number(expText);
      if (!sig || !Number.isFinite(exp) || sig !== sign(objectPath, exp)) {
        fail(res, 400, 'InvalidJWT', 'invalid signature');
        return;
      }
      if (exp < Math.floor(Date.now() / 1000)) {
        fail(res, 400, 'InvalidJWT', '"exp" claim timestamp check failed');
        return;
      }
      const obj = objects.get(objectPath);
      if (!obj) {
        fail(res, 404, 'not_found', 'Object not found');
        return;
      }
      sendObject(res, obj);
      return;
    }
    if (req.headers.authorization !== `Bearer ${serviceKey}` || req.headers['apikey'] !== serviceKey) {
      fail(res, 403, 'Unauthorized', 'Invalid Compact JWS');
      return;
    }
    if (!bucket) {
      fail(res, 404, 'Bucket not found', 'Bucket not found');
      return;
    }
    const body = await readAll(req);
    if (route.kind === 'upload') {
      const contentType = String(req.headers['content-type'] ?? 'application/octet-stream');
      const existing = objects.get(objectPath);
      if (existing) {
        existing.uploads += 1;
        if (req.headers['x-upsert'] !== 'true') {
          fail(res, 409, 'Duplicate', 'The resource already exists');
          return;
        }
        Object.assign(existing, { bytes: body, contentType });
      } else {
        objects.set(objectPath, { bytes: body, contentType, uploads: 1 });
      }
      json(res, 200, { Key: objectPath, Id: randomBytes(16).toString('hex') });
      return;
    }
    // sign
    if (!objects.has(objectPath)) {
      fail(res, 404, 'not_found', 'Object not found');
      return;
    }
    const expiresIn = Number((JSON.parse(body.toString('utf8') || '{}') as { expiresIn?: unknown }).expiresIn);
    if (!Number.isFinite(expiresIn) || expiresIn < 1) {
      fail(res, 400, 'InvalidRequest', 'expiresIn must be a positive number');
      return;
    }
    const exp = Math.floor(Date.now() / 1000) + expiresIn;
    json(res, 200, { signedURL: `/object/sign/${objectPath}?token=${exp}.${sign(objectPath, exp)}` });
  };

  const server: Server = createServer((req, res) => {
    res.once('finish', () =>
      requests.push({ method: req.method ?? 'GET', path: (req.url ?? '').split('?')[0] ?? '', status: res.statusCode }),
    );
    handle(req, res).catch((err: unknown) =>
      json(res, 500, { statusCode: '500', error: 'internal', message: String(err) }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    serviceKey,
    objects,
    requests,
    createBucket: (name, options = {}) => {
      buckets.set(name, { public: options.public ?? false });
    },
    deleteBucket: (name) => {
      buckets.delete(name);
    },
    setLegacyErrors: (on) => {
      legacyErrors = on;
    },
    reset: () => {
      objects.clear();
      requests.length = 0;
      legacyErrors = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

type Route = { kind: 'upload' | 'sign' | 'signed-get' | 'public'; bucket: string; path: string };

function matchRoute(method: string, pathname: string): Route | null {
  const prefix = '/storage/v1/object/';
  if (!pathname.startsWith(prefix)) return null;
  const parts = pathname.slice(prefix.length).split('/').map(decodeURIComponent);
  const split = (rest: string[]) =>
    rest.length >= 2 && rest.every((p) => p.length > 0) ? { bucket: rest[0]!, path: rest.slice(1).join('/') } : null;
  if (parts[0] === 'sign') {
    const target = split(parts.slice(1));
    if (!target) return null;
    if (method === 'POST') return { kind: 'sign', ...target };
    if (method === 'GET') return { kind: 'signed-get', ...target };
    return null;
  }
  if (parts[0] === 'public' && method === 'GET') {
    const target = split(parts.slice(1));
    return target ? { kind: 'public', ...target } : null;
  }
  const target = split(parts);
  return target && method === 'POST' ? { kind: 'upload', ...target } : null;
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const raw = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(raw) });
  res.end(raw);
}

function sendObject(res: ServerResponse, obj: StoredObject): void {
  res.writeHead(200, { 'content-type': obj.contentType, 'content-length': obj.bytes.length });
  res.end(obj.bytes);
}
