/**
 * Media endpoints, as the router meets them:
 *   GET /{version}/{media-id}  — bearer-checked lookup: `{ messaging_product, url, mime_type, sha256,
 *                                file_size, id }`; an unknown or deleted id → 404 with Graph's body.
 *   GET /whatsapp_business/attachments/?mid=…&ext=…&hash=… — the download link the lookup hands out
 *                                (shaped like Meta's CDN links): bearer-checked, bytes with their
 *                                content type; an expired link or deleted media → 404.
 * The down switch applies here too; scripted failures stay with the send endpoint.
 */
import type { ServerResponse } from 'node:http';
import { sendJson, sendText } from './http-io.js';
import type { MediaLibrary } from './media-library.js';
import { metaErrorBody, unknownObjectBody } from './meta-error-bodies.js';
import type { RouteContext, RouteKit, RouteTable } from './route-table.js';
import type { SimulatorState } from './simulator-state.js';

export const MEDIA_DOWNLOAD_PATH = '/whatsapp_business/attachments/';

export function registerMediaRoutes(
  routes: RouteTable,
  kit: RouteKit,
  state: SimulatorState,
  library: MediaLibrary,
): void {
  routes
    .add({
      method: 'GET',
      path: '/:version/:mediaId',
      where: { version: kit.version },
      handler: (ctx) => lookup(ctx, kit, state, library),
    })
    .add({ method: 'GET', path: MEDIA_DOWNLOAD_PATH, handler: (ctx) => download(ctx, kit, state, library) });
}

function lookup(ctx: RouteContext, kit: RouteKit, state: SimulatorState, library: MediaLibrary): void {
  if (answeredDown(ctx, state) || !kit.authorize(ctx)) return;
  library.counters.lookups += 1;
  const id = ctx.params['mediaId'] ?? '';
  const item = library.get(id);
  if (!item) {
    sendJson(ctx.res, 404, unknownObjectBody(id));
    return;
  }
  const { token, expiresAtS } = library.issueLink(id);
  const query = new URLSearchParams({ mid: id, ext: String(expiresAtS), hash: token });
  sendJson(ctx.res, 200, {
    messaging_product: 'whatsapp',
    url: `http://${ctx.req.headers.host ?? '127.0.0.1'}${MEDIA_DOWNLOAD_PATH}?${query}`,
    mime_type: item.mimeType,
    sha256: item.sha256Hex,
    file_size: item.bytes.length,
    id,
  });
}

function download(ctx: RouteContext, kit: RouteKit, state: SimulatorState, library: MediaLibrary): void {
  if (answeredDown(ctx, state) || !kit.authorize(ctx)) return;
  library.counters.downloads += 1;
  const item = library.resolveLink(ctx.query.get('hash') ?? '', ctx.query.get('mid') ?? '');
  if (!item) {
    sendText(ctx.res, 404, 'URL signature expired', 'text/plain; charset=utf-8');
    return;
  }
  library.counters.served += 1;
  const res: ServerResponse = ctx.res;
  res.writeHead(200, { 'content-type': item.mimeType, 'content-length': item.bytes.length });
  res.end(item.bytes);
}

function answeredDown(ctx: RouteContext, state: SimulatorState): boolean {
  if (state.down === null) return false;
  state.requests.down += 1;
  if (state.down === 'reset') ctx.req.socket.resetAndDestroy();
  else sendJson(ctx.res, 503, metaErrorBody({ code: 131016 }));
  return true;
}
