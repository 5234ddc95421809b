import { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import { isEvolutionSender } from '../evolution/line-ids.js';
import type { Db } from '../store/db.js';
import { loadEvolutionMedia } from '../store/evolution-media-repository.js';
import type { GraphMediaClient, MediaInfo } from './graph-media-client.js';

/** What the media downloader needs of a source: find the file, then open it as a stream. */
export type MediaSourceClient = Pick<GraphMediaClient, 'lookup' | 'open'>;

const INLINE = 'evo-base64:';
const LINKED = 'evo-url:';

/**
 * Media ids `evo:<instance>:<id>` are Evolution messages' files: base64 the webhook carried, or the
 * URL Evolution stored the decrypted file at (router_evolution_media). Everything else is a Cloud API
 * media id for the Graph client. The Graph token never goes with an Evolution download.
 */
export class EvolutionAwareMediaClient implements MediaSourceClient {
  constructor(
    private readonly graph: GraphMediaClient | null,
    private readonly db: Db,
    private readonly timeoutMs: number,
  ) {}

  async lookup(mediaId: string, signal?: AbortSignal): Promise<MediaInfo> {
    if (!isEvolutionSender(mediaId)) {
      if (!this.graph)
        throw new AppError('MEDIA_UNAVAILABLE', 'no WHATSAPP_ACCESS_TOKEN to fetch Cloud API media with');
      return this.graph.lookup(mediaId, signal);
    }
    const source = await loadEvolutionMedia(this.db, mediaId);
    if (source?.base64) {
      // base64 of n bytes is 4·ceil(n/3) characters: the size is known before decoding anything.
      const padding = source.base64.endsWith('==') ? 2 : source.base64.endsWith('=') ? 1 : 0;
      const fileSize = Math.floor((source.base64.length * 3) / 4) - padding;
      return { id: mediaId, url: `${INLINE}${mediaId}`, mimeType: null, sha256: null, fileSize };
    }
    if (source?.url && /^https?:\/\//i.test(source.url)) {
      return { id: mediaId, url: `${LINKED}${source.url}`, mimeType: null, sha256: null, fileSize: null };
    }
    throw new AppError('MEDIA_NOT_FOUND', 'the Evolution webhook carried no file (enable webhook_base64 or S3)');
  }

  async open(url: string, maxBytes: number, signal?: AbortSignal): Promise<Readable> {
    if (url.startsWith(INLINE)) {
      const source = await loadEvolutionMedia(this.db, url.slice(INLINE.length));
      if (!source?.base64) throw new AppError('MEDIA_NOT_FOUND', 'inline media gone');
      return Readable.from([Buffer.from(source.base64, 'base64')]);
    }
    if (url.startsWith(LINKED)) return this.download(url.slice(LINKED.length), maxBytes, signal);
    if (!this.graph) throw new AppError('MEDIA_UNAVAILABLE', 'no Graph client');
    return this.graph.open(url, maxBytes, signal);
  }

  /** A plain GET, no credentials: Evolution's storage links are self-authorising (signed or public). */
  private async download(url: string, maxBytes: number, signal?: AbortSignal): Promise<Readable> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'follow' });
    } catch (err) {
      throw new AppError(
        'MEDIA_UNAVAILABLE',
        `download ${(err as Error).name === 'TimeoutError' ? 'timeout' : 'network error'}`,
        {
          cause: err,
        },
      );
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      const retry = res.status >= 500 || res.status === 429 || res.status === 408;
      throw new AppError(retry ? 'MEDIA_UNAVAILABLE' : 'MEDIA_NOT_FOUND', `download answered ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await res.body.cancel().catch(() => undefined);
      throw new AppError('MEDIA_TOO_LARGE', `${declared} bytes > ${maxBytes}`);
    }
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }
}
