import type { Request, Response } from 'express';
import type { Logger } from 'pino';

export type AdminAudit = (req: Request, res: Response, target: string | null, outcome: string) => void;

/** One log line per admin call: action, target, outcome — never the token or the text. */
export function adminAudit(log: Logger): AdminAudit {
  return (req, res, target, outcome) =>
    log.info(
      {
        audit: true,
        action: `${req.method} ${req.baseUrl}${req.route?.path ?? req.path}`,
        target,
        outcome,
        ip: req.ip,
        requestId: res.locals.requestId,
      },
      'admin action',
    );
}
