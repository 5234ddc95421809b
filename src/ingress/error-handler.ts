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
    const reply = errorReply(err, log, res.locals.requestId as string | undefined, req.path);
    if (res.headersSent) return;
    for (const [name, value] of reply.headers) res.setHeader(name, value);
    res.status(reply.status).json(reply.body);
  };
}

/** What a failed request answers: status, extra headers (in the order they are set) and the JSON body. */
export interface ErrorReply {
  status: number;
  headers: [string, string][];
  body: { error: { code: string; message: string; details?: Record<string, unknown> }; requestId: string | undefined };
}

/**
 * The error answer and its log line, shared by the Express handler above and the webhook fast path
 * (webhook-fast-path.ts), so both answer and log a failure the same way.
 */
export function errorReply(err: unknown, log: Logger, requestId: string | undefined, path: string): ErrorReply {
  const appErr = toAppError(err);
  if (appErr.status >= 500 && appErr.code !== 'STORE_UNAVAILABLE') {
    log.error(
      {
        requestId,
        path,
        code: appErr.code,
        err: { message: (err as Error)?.message, stack: (err as Error)?.stack },
      },
      'request failed',
    );
  } else {
    log.warn({ requestId, path, code: appErr.code, status: appErr.status }, 'request rejected');
  }
  const headers: [string, string][] = [];
  if (appErr.status === 503) headers.push(['Retry-After', '5']);
  if (appErr.status === 429) headers.push(['Retry-After', String(retryAfterOf(appErr) ?? 1)]);
  const error =
    appErr.status >= 500
      ? { code: appErr.code, message: GENERIC_5XX[appErr.status] ?? GENERIC_5XX[500]! }
      : { code: appErr.code, message: appErr.message, ...(appErr.details ? { details: appErr.details } : {}) };
  return { status: appErr.status, headers, body: { error, requestId } };
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
