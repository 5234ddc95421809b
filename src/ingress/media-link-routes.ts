import path from 'node:path';
import { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { LocalMediaAccess } from '../media/create-media.js';
import { isSafeMediaKey } from '../media/media-keys.js';
import type { Queryable } from '../store/db.js';
import { mediaLinkState, type MediaLinkState } from '../store/media-repository.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** How often a waiting request looks whether the download finished. */
const POLL_MS = 250;

export interface MediaLinkDeps {
  db: Queryable;
  local: LocalMediaAccess | null;
  /** How long a request for a file still downloading waits before answering 503 + Retry-After. */
  waitMs: number;
  log: Logger;
}

/**
 * `GET /media/<message id>/<file name>`: the link written into mensajes.media_url together with the
 * message. The chat renders media as soon as the row is inserted (CH:938) and refreshes on nothing
 * else (no subscription to mensajes UPDATE), so the link exists from the first instant and answers
 * once the file is there: a request that arrives while the download runs waits for it. The message
 * id is a random uuid (gen_random_uuid), unguessable, and is what authorises the link — the same
 * capability the CRM's database already grants to whoever can read media_url. The file name segment
 * is only what the CRM shows for documents.
 */
export function mediaLinkRoutes(deps: MediaLinkDeps): Router {
  const router = Router();
  router.get('/media/:id/:name', async (req, res, next) => {
    const id = String(req.params.id);
    if (!UUID.test(id)) {
      next();
      return;
    }
    let gone = false;
    req.once('close', () => {
      gone = true;
    });
    const deadline = Date.now() + deps.waitMs;
    let state: MediaLinkState;
    try {
      state = await mediaLinkState(deps.db, id);
      while (
        state.found &&
        (state.estado === 'pendiente' || state.estado === 'descargando') &&
        Date.now() < deadline &&
        !gone
      ) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        state = await mediaLinkState(deps.db, id);
      }
    } catch (err) {
      // Answered here, not by the error handler: it logs the path, and the path holds the file name.
      deps.log.warn(
        { requestId: res.locals['requestId'], code: (err as { code?: string }).code ?? null },
        'media link lookup failed',
      );
      if (!gone) {
        res.setHeader('Retry-After', '5');
        refuse(res, 503, 'STORE_UNAVAILABLE', 'the database did not answer; try again');
      }
      return;
    }
    if (gone) return;
    serve(req, res, state, deps);
  });
  return router;
}

function serve(_req: Request, res: Response, state: MediaLinkState, deps: MediaLinkDeps): void {
  if (!state.found || state.estado === 'fallido' || state.estado === 'omitido') {
    refuse(res, 404, 'MEDIA_NOT_FOUND', 'no file is kept for this message');
    return;
  }
  if (state.estado !== 'hecho') {
    res.setHeader('Retry-After', '5');
    refuse(res, 503, 'MEDIA_UNAVAILABLE', 'the file is still being downloaded from WhatsApp');
    return;
  }
  // Private: customers' files. Browsers may keep them a while, shared caches not at all.
  res.setHeader('Cache-Control', 'private, max-age=3600');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (state.storage === 'local' && deps.local && state.key && isSafeMediaKey(state.key)) {
    const inline = /\.(jpe?g|png|webp|gif|ogg|opus|mp3|m4a|aac|amr|mp4|3gp|pdf)$/i.test(path.extname(state.key));
    if (!inline) {
      res.setHeader('Content-Disposition', 'attachment');
      res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    }
    res.sendFile(
      state.key,
      { root: deps.local.root, dotfiles: 'deny', cacheControl: false },
      (err?: Error & { status?: number; code?: string }) => {
        if (!err) return;
        if (err.code !== 'ECONNABORTED' && err.code !== 'ECONNRESET') {
          deps.log.error(
            { requestId: res.locals['requestId'], code: err.code ?? err.status ?? null },
            'stored media could not be served',
          );
        }
        if (res.headersSent) res.destroy();
        else
          refuse(
            res,
            err.status === 404 ? 404 : 500,
            err.status === 404 ? 'MEDIA_NOT_FOUND' : 'INTERNAL',
            'media could not be read',
          );
      },
    );
    return;
  }
  if (state.url) {
    // Supabase Storage (public or signed URL): the browser fetches it from there.
    res.redirect(302, state.url);
    return;
  }
  refuse(res, 404, 'MEDIA_NOT_FOUND', 'no file is kept for this message');
}

function refuse(res: Response, status: number, code: string, message: string): void {
  res.removeHeader('Content-Disposition');
  res.status(status).json({ error: { code, message }, requestId: res.locals['requestId'] as string | undefined });
}
