import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { AppError, isAppError } from '../errors.js';

/**
 * Last stop of every request: AppError → its status and `{ error: { code, message }, requestId }`;
 * body-parser errors (size, encoding) → their AppError; anything else → 500, logged once with its
 * stack. A 5xx body says only what kind of failure it was: its message may quote the database
 * (index names, values), which stays in the log under the same request id.
 */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appErr = toAppError(err);
    const requestId = res.locals.requestId as string | undefined;
    if (appErr.status >= 500 && appErr.code !== 'STORE_UNAVAILABLE') {
      log.error(
        {
          requestId,
          path: req.path,
          code: appErr.code,
          err: { message: (err as Error)?.message, stack: (err as Error)?.stack },
        },
        'request failed',
      );
    } else {
      log.warn({ requestId, path: req.path, code: appErr.code, status: appErr.status }, 'request rejected');
    }
    if (res.headersSent) return;
    if (appErr.status === 503) res.setHeader('Retry-After', '5');
    if (appErr.status === 429) res.setHeader('Retry-After', String(retryAfterOf(appErr) ?? 1));
    const error =
      appErr.status >= 500
        ? { code: appErr.code, message: GENERIC_5XX[appErr.status] ?? GENERIC_5XX[500]! }
        : { code: appErr.code, message: appErr.message, ...(appErr.details ? { details: appErr.details } : {}) };
    res.status(appErr.status).json({ error, requestId });
  };
}

const GENERIC_5XX: Record<number, string> = {
  500: 'internal error; the log has the details under this requestId',
  502: 'an upstream service failed; the log has the details under this requestId',
  503: 'temporarily unavailable; retry later',
};

/** Seconds the refusal itself names (e.g. a throttled address), when it names them. */
function retryAfterOf(err: AppError): number | null {
  const value = err.details?.['retryAfterS'];
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.ceil(value) : null;
}

function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.too.large')
    return new AppError('PAYLOAD_TOO_LARGE', 'request body exceeds the webhook body limit');
  if (e?.type === 'entity.parse.failed') return new AppError('VALIDATION_FAILED', 'request body is not valid JSON');
  if (
    e?.type === 'encoding.unsupported' ||
    e?.type === 'charset.unsupported' ||
    e?.type === 'request.aborted' ||
    e?.status === 400
  ) {
    return new AppError('PAYLOAD_NOT_JSON', e.message ?? 'unreadable request body');
  }
  return new AppError('INTERNAL', 'internal error', { cause: err });
}
