import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import { safeEqual } from '../webhook/verify-signature.js';

/**
 * `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. Without a configured token the
 * admin API does not exist (404), so a forgotten token cannot leave it open.
 */
export function adminAuth(token: string | undefined, log: Logger): RequestHandler {
  return (req, res, next) => {
    if (!token) {
      res.status(404).json({ error: { code: 'NOT_FOUND', message: 'admin API disabled (ADMIN_TOKEN not set)' } });
      return;
    }
    const header = req.header('authorization') ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
    if (!presented || !safeEqual(presented, token)) {
      log.warn({ audit: true, action: `${req.method} ${req.path}`, outcome: 'unauthorized', ip: req.ip, requestId: res.locals.requestId }, 'admin request refused');
      res.setHeader('WWW-Authenticate', 'Bearer realm="psi-router-admin"');
      next(new AppError('UNAUTHORIZED', 'missing or wrong bearer token'));
      return;
    }
    next();
  };
}
