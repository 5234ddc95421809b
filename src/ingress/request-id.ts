import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Nginx's X-Request-Id when it is sane, else a fresh one (shared by Express and the webhook fast path). */
export function requestIdFrom(incoming: string | undefined): string {
  return incoming && SAFE_ID.test(incoming) ? incoming : randomUUID();
}

/** Reuses Nginx's X-Request-Id when it is sane, else makes one; echoed back for correlation. */
export const requestId: RequestHandler = (req, res, next) => {
  const id = requestIdFrom(req.header('x-request-id'));
  res.locals.requestId = id;
  res.setHeader('X-Request-Id', id);
  next();
};
