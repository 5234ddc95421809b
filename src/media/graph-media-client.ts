/**
 * The two Graph calls behind a media id (Cloud API "media" reference): the lookup
 * `GET /{version}/{media-id}` → `{ url, mime_type, sha256, file_size, id }`, and the download of
 * that short-lived URL — both with the bearer token and a timeout. Failures become AppErrors whose
 * code says how the downloader reacts:
 *   MEDIA_NOT_FOUND   — the id is gone (Graph 404, Meta code 100 / 131052): give up.
 *   MEDIA_URL_EXPIRED — the download URL answered 401/403/404/410: look the id up once more.
 *   MEDIA_TOO_LARGE   — over the limit by Content-Length (while streaming: media-checks.ts): give up.
 *   MEDIA_UNAVAILABLE — 5xx, 429, timeouts, network, token trouble: retry with backoff.
 *   MEDIA_REJECTED    — any other 4xx: give up, with Meta's code.
 * Messages never contain the download URL: it works as a credential for a few minutes.
 */
import { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import { classifyGraphFailure } from '../outbound/graph-errors.js';
import type { MediaUrlPolicy } from './media-url-policy.js';

export interface GraphMediaClientOptions {
  baseUrl: string;
  version: string;
  accessToken: string;
  timeoutMs: number;
  /** Where downloads may go with the token (media-url-policy.ts); throws to refuse. */
  urlPolicy?: MediaUrlPolicy;
}

export interface MediaInfo {
  id: string;
  url: string;
  mimeType: string | null;
  sha256: string | null;
  /** Meta sends it as a number or a digit string; null when absent. */
  fileSize: number | null;
}

const GONE_CODES = new Set([100, 131052]);
const EXPIRED_STATUSES = new Set([401, 403, 404, 410]);
// Meta's CDN has been seen to refuse downloads without a User-Agent; say who we are.
const USER_AGENT = 'psi-router/media';

export class GraphMediaClient {
  constructor(private readonly options: GraphMediaClientOptions) {}

  async lookup(mediaId: string, signal?: AbortSignal): Promise<MediaInfo> {
    const url = `${this.options.baseUrl.replace(/\/$/, '')}/${this.options.version}/${encodeURIComponent(mediaId)}`;
    const res = await this.request(url, 'lookup', signal);
    const text = await res.text().catch(() => '');
    const body = safeJson(text);
    if (!res.ok) throw lookupError(res.status, body);
    const info = body as {
      url?: unknown;
      mime_type?: unknown;
      sha256?: unknown;
      file_size?: unknown;
      id?: unknown;
    } | null;
    if (!info || typeof info.url !== 'string' || !/^https?:\/\//.test(info.url)) {
      throw new AppError('MEDIA_UNAVAILABLE', `lookup answered ${res.status} without a download URL`);
    }
    const size =
      typeof info.file_size === 'number' || typeof info.file_size === 'string' ? Number(info.file_size) : NaN;
    return {
      id: typeof info.id === 'string' ? info.id : mediaId,
      url: info.url,
      mimeType: typeof info.mime_type === 'string' ? info.mime_type : null,
      sha256: typeof info.sha256 === 'string' ? info.sha256 : null,
      fileSize: Number.isFinite(size) && size >= 0 ? size : null,
    };
  }

  /**
   * Opens the download: checks the answer and the announced length against `maxBytes`, and hands
   * back the body as a stream, never buffered here (the caller counts, hashes and caps it while it
   * writes it to disk: media-checks.ts). Read errors surface as MEDIA_UNAVAILABLE.
   */
  async open(url: string, maxBytes: number, signal?: AbortSignal): Promise<Readable> {
    const stop = new AbortController();
    const res = await this.request(url, 'download', signal ? AbortSignal.any([signal, stop.signal]) : stop.signal);
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      if (EXPIRED_STATUSES.has(res.status))
        throw new AppError('MEDIA_URL_EXPIRED', `download answered ${res.status}`, {
          details: { httpStatus: res.status },
        });
      const retry = res.status >= 500 || res.status === 429 || res.status === 408;
      throw new AppError(retry ? 'MEDIA_UNAVAILABLE' : 'MEDIA_REJECTED', `download answered ${res.status}`, {
        details: { httpStatus: res.status },
      });
    }
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      stop.abort();
      throw new AppError('MEDIA_TOO_LARGE', `${declared} bytes > ${maxBytes}`, {
        details: { bytes: declared, max: maxBytes },
      });
    }
    return Readable.from(bodyChunks(res.body, stop), { objectMode: false });
  }

  private async request(url: string, step: 'lookup' | 'download', signal: AbortSignal | undefined): Promise<Response> {
    // Checked where the token is attached, so no way of reaching a download skips it.
    if (step === 'download') this.options.urlPolicy?.(url);
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    try {
      return await fetch(url, {
        headers: { authorization: `Bearer ${this.options.accessToken}`, 'user-agent': USER_AGENT },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      throw transportError(step, err);
    }
  }
}

/**
 * The body, chunk by chunk as the caller pulls (so TCP backpressure bounds what is in memory). When
 * the caller stops early (size cap, disk error), the request is aborted instead of read to its end.
 */
async function* bodyChunks(body: ReadableStream<Uint8Array> | null, stop: AbortController): AsyncGenerator<Buffer> {
  if (!body) return;
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const chunk = await reader.read().catch((err: unknown) => {
        throw transportError('download', err);
      });
      if (chunk.done) {
        finished = true;
        return;
      }
      yield Buffer.from(chunk.value.buffer, chunk.value.byteOffset, chunk.value.byteLength);
    }
  } finally {
    if (!finished) stop.abort();
  }
}

function transportError(step: string, err: unknown): AppError {
  const name = (err as Error)?.name;
  const what =
    name === 'TimeoutError'
      ? 'timeout'
      : name === 'AbortError'
        ? 'aborted'
        : `network: ${(err as { cause?: { code?: string } })?.cause?.code ?? 'error'}`;
  return new AppError('MEDIA_UNAVAILABLE', `${step} ${what}`, { cause: err });
}

function lookupError(status: number, body: unknown): AppError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof error?.code === 'number' ? error.code : null;
  const title = typeof error?.message === 'string' ? error.message.slice(0, 160) : `HTTP ${status}`;
  const details = { httpStatus: status, metaCode: code };
  if (status === 404 || (code !== null && GONE_CODES.has(code)))
    return new AppError('MEDIA_NOT_FOUND', `Graph ${status} ${title}`, { details });
  const kind = classifyGraphFailure(status, code);
  if (kind === 'permanent') return new AppError('MEDIA_REJECTED', `Graph ${status} ${title}`, { details });
  return new AppError('MEDIA_UNAVAILABLE', `Graph ${status} (${kind}) ${title}`, { details });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
