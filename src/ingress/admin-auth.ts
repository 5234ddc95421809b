import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import { safeEqual } from '../webhook/verify-signature.js';
import { AuthThrottle } from './auth-throttle.js';

/** Ten wrong tokens a minute from one address, then a minute of 429 (README "Configuration"). */
export const ADMIN_AUTH_LIMITS = { maxFailures: 10, windowMs: 60_000, blockMs: 60_000 };

/**
 * `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. Without a configured token the
 * admin API does not exist (404), so a forgotten token cannot leave it open. Failed tokens are
 * throttled per client address (auth-throttle.ts); `req.ip` is Nginx's real client address
 * (app.ts trusts the loopback proxy hop only).
 */
export function adminAuth(
  token: string | undefined,
  log: Logger,
  throttle = new AuthThrottle(ADMIN_AUTH_LIMITS),
): RequestHandler {
  return (req, res, next) => {
    if (!token) {
      res.status(404).json({ error: { code: 'NOT_FOUND', message: 'admin API disabled (ADMIN_TOKEN not set)' } });
      return;
    }
    const address = req.ip ?? 'unknown';
    const audit = { audit: true, action: `${req.method} ${req.path}`, ip: address, requestId: res.locals.requestId };
    const waitMs = throttle.blockedFor(address);
    if (waitMs > 0) {
      const retryAfterS = Math.ceil(waitMs / 1000);
      log.warn(
        { ...audit, outcome: 'throttled', retryAfterS },
        'admin request refused: too many failed tokens from this address',
      );
      next(
        new AppError('RATE_LIMITED', 'too many failed admin tokens from this address; retry later', {
          details: { retryAfterS },
        }),
      );
      return;
    }
    const header = req.header('authorization') ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
    if (!presented || !safeEqual(presented, token)) {
      throttle.recordFailure(address);
      log.warn({ ...audit, outcome: 'unauthorized' }, 'admin request refused');
      res.setHeader('WWW-Authenticate', 'Bearer realm="psi-router-admin"');
      next(new AppError('UNAUTHORIZED', 'missing or wrong bearer token'));
      return;
    }
    next();
  };
}
