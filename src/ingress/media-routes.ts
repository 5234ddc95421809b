import path from 'node:path';
import { Router, type Response } from 'express';
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors.js';
import type { LocalMediaAccess } from '../media/create-media.js';
import { isSafeMediaKey } from '../media/media-keys.js';
import { checkMediaLink } from '../media/media-url-signer.js';

/** Types a browser may show inline; anything else (a customer's .html or .svg…) is a download. */
const INLINE_EXTENSIONS = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.gif',
  '.ogg',
  '.opus',
  '.mp3',
  '.m4a',
  '.aac',
  '.amr',
  '.mp4',
  '.3gp',
  '.pdf',
]);

/**
 * `GET /media/<key>?exp=…&sig=…`: locally stored media for the CRM (MEDIA_STORAGE=local). The
 * signed, expiring link is the authentication (media-url-signer.ts): a bad or expired one gets 403
 * before the disk is touched. Keys are checked against the key alphabet and served relative to the
 * media root (send refuses `..` too), so nothing outside DATA_DIR/media can be reached.
 * Every answer is given here rather than through the error handler, which logs the path: media
 * paths carry customers' file names.
 */
export function mediaRoutes(local: LocalMediaAccess | null, log: Logger): Router {
  const router = Router();
  router.get('/media/*key', (req, res) => {
    if (!local) {
      refuse(res, 404, 'NOT_FOUND', 'media is not served by this router (MEDIA_STORAGE is not local)');
      return;
    }
    const raw = (req.params as { key?: string | string[] }).key;
    const key = Array.isArray(raw) ? raw.join('/') : (raw ?? '');
    const check = checkMediaLink(local.secret, key, queryValue(req.query['exp']), queryValue(req.query['sig']));
    if (check !== 'ok') {
      refuse(
        res,
        403,
        'MEDIA_LINK_INVALID',
        check === 'expired' ? 'media link expired' : 'media link signature invalid',
      );
      return;
    }
    if (!isSafeMediaKey(key)) {
      refuse(res, 404, 'NOT_FOUND', 'no such media');
      return;
    }
    const inline = INLINE_EXTENSIONS.has(path.extname(key).toLowerCase());
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // Customers' files: browsers may keep them a while, shared caches not at all.
    res.setHeader('Cache-Control', 'private, max-age=3600');
    if (!inline) {
      res.setHeader('Content-Disposition', 'attachment');
      res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    }
    res.sendFile(
      key,
      { root: local.root, dotfiles: 'deny', cacheControl: false },
      (err?: Error & { status?: number; code?: string }) => {
        if (!err) return;
        if (err.status === 404) {
          refuse(res, 404, 'NOT_FOUND', 'no such media');
          return;
        }
        // A client that hangs up mid-file is not a server problem; anything else is (permissions, disk).
        if (err.code !== 'ECONNABORTED' && err.code !== 'ECONNRESET') {
          log.error(
            { requestId: res.locals['requestId'], code: err.code ?? err.status ?? null },
            'stored media could not be served',
          );
        }
        if (res.headersSent) res.destroy();
        else refuse(res, 500, 'INTERNAL', 'media could not be read');
      },
    );
  });
  return router;
}

function refuse(res: Response, status: number, code: ErrorCode, message: string): void {
  res.removeHeader('Content-Disposition');
  res.status(status).json({ error: { code, message }, requestId: res.locals['requestId'] as string | undefined });
}

function queryValue(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
