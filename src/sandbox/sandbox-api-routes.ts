import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { AdminAudit } from '../ingress/admin-audit.js';
import { parseInput } from '../ingress/parse-input.js';
import type { Db } from '../store/db.js';
import { listLines } from '../store/line-repository.js';
import { sandboxChat } from '../store/sandbox-repository.js';
import { signBody } from '../webhook/verify-signature.js';
import { sandboxEnvelope } from './sandbox-envelope.js';
import { SANDBOX_CUSTOMERS, SANDBOX_PHONE, SANDBOX_PHONE_PREFIX } from './sandbox-phones.js';

export interface SandboxApiDeps {
  config: Config;
  db: Db;
  audit: AdminAudit;
}

/** Without a configured cloud line every number lands on DEFAULT_LINE: the sandbox writes to this one. */
const UNCONFIGURED_PHONE_NUMBER_ID = '0000000000';

const phone = z.string().regex(SANDBOX_PHONE, `must be a sandbox number: ${SANDBOX_PHONE_PREFIX} and 7 digits`);
const sendSchema = z
  .object({
    line: z.string().min(1).max(40),
    customer: z.object({ phone, name: z.string().trim().min(1).max(60).default('Cliente de prueba') }).strict(),
    input: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('text'), text: z.string().trim().min(1).max(4096) }).strict(),
      z.object({ kind: z.literal('button_reply'), id: z.string().min(1).max(256), title: z.string().max(60) }).strict(),
      z
        .object({
          kind: z.literal('list_reply'),
          id: z.string().min(1).max(200),
          title: z.string().max(72),
          description: z.string().max(200).optional(),
        })
        .strict(),
    ]),
    contextWamid: z.string().max(200).nullable().optional(),
  })
  .strict();
const chatQuery = z.object({ line: z.string().min(1).max(40), phone }).strict();

interface SandboxLine {
  code: string;
  name: string;
  phoneNumberId: string;
  flow: string;
}

/**
 * The sandbox page's API, behind the admin token (mounted by admin-routes.ts after its auth):
 *   GET  /admin/sandbox/api/setup     lines and test customers to pick from
 *   POST /admin/sandbox/api/messages  the customer types or taps: a signed webhook into our own /webhook
 *   GET  /admin/sandbox/api/chat      conversation state, ticket, chat and inbox notifications
 * Only sandbox numbers are accepted, so the page cannot write as a real customer.
 */
export function sandboxApiRoutes(deps: SandboxApiDeps): Router {
  const router = Router();

  const lines = async (): Promise<SandboxLine[]> => {
    const cloud = (await listLines(deps.db)).filter((l) => l.activo && l.tipo === 'cloud' && l.phone_number_id);
    if (cloud.length === 0) {
      const code = deps.config.DEFAULT_LINE;
      return [{ code, name: code, phoneNumberId: UNCONFIGURED_PHONE_NUMBER_ID, flow: 'menu' }];
    }
    return cloud.map((l) => ({ code: l.codigo, name: l.nombre, phoneNumberId: l.phone_number_id!, flow: l.flujo }));
  };

  router.get('/admin/sandbox/api/setup', async (req, res) => {
    res.json({ lines: await lines(), customers: SANDBOX_CUSTOMERS, prefix: SANDBOX_PHONE_PREFIX });
    deps.audit(req, res, null, 'listed');
  });

  router.post('/admin/sandbox/api/messages', async (req, res) => {
    const body = parseInput(sendSchema, req.body);
    const line = (await lines()).find((l) => l.code === body.line);
    if (!line) throw new AppError('NOT_FOUND', 'no such line for the sandbox');
    const { wamid, body: envelope } = sandboxEnvelope({
      phoneNumberId: line.phoneNumberId,
      displayPhoneNumber: line.name,
      customer: body.customer,
      input: body.input,
      contextWamid: body.contextWamid,
    });
    // The same door as Meta: signed with the app secret, acknowledged only once journaled.
    const raw = JSON.stringify(envelope);
    const secret = deps.config.WHATSAPP_APP_SECRET[0];
    const answer = await fetch(`${ownAddress(req)}/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(secret ? { 'x-hub-signature-256': signBody(raw, secret) } : {}),
      },
      body: raw,
      signal: AbortSignal.timeout(10_000),
    });
    deps.audit(req, res, line.code, `${body.input.kind} ${answer.status}`);
    if (answer.status !== 200) {
      throw new AppError('STORE_UNAVAILABLE', `the webhook answered ${answer.status}; try again`);
    }
    res.status(202).json({ wamid });
  });

  // Polled by the page every second: not audited (a read of sandbox data only).
  router.get('/admin/sandbox/api/chat', async (req, res) => {
    const q = parseInput(chatQuery, req.query);
    res.json(await sandboxChat(deps.db, { phone: q.phone, line: q.line }));
  });

  return router;
}

/** This server, as the request reached it (Nginx in front or not): the sandbox posts to itself. */
function ownAddress(req: Request): string {
  const address = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const host = address.includes(':') ? `[${address}]` : address;
  return `http://${host}:${req.socket.localPort}`;
}
