/**
 * POST /{version}/{phone-number-id}/messages. Order of checks, as agreed with the tests:
 * down switch → auth → (latency) → scripted failure → JSON + validation → accept.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerResponse } from 'node:http';
import { parseJson, readBody, sendJson, sendText } from './http-io.js';
import { nextWamid, toWaId } from './ids.js';
import { metaErrorBody } from './meta-error-bodies.js';
import type { RouteContext, RouteKit, RouteTable } from './route-table.js';
import { reject, type SimulatorState } from './simulator-state.js';
import type { ScriptedFailure, SentMessage } from './types.js';
import { validateMessage } from './validate-message.js';

export function registerSendRoute(routes: RouteTable, kit: RouteKit, state: SimulatorState): void {
  routes.add({
    method: 'POST',
    path: '/:version/:phoneNumberId/messages',
    where: { version: kit.version },
    handler: (ctx) => handleSend(ctx, kit, state),
  });
}

async function handleSend(ctx: RouteContext, kit: RouteKit, state: SimulatorState): Promise<void> {
  const { req, res } = ctx;
  if (state.down !== null) {
    if (state.down === 'reset') {
      state.requests.down += 1;
      req.socket.resetAndDestroy();
      return;
    }
    reject(state, res, 'down', 503, metaErrorBody({ code: 131016 }));
    return;
  }
  if (!kit.authorize(ctx)) return;
  const raw = await readBody(req);
  if (state.latencyMs > 0) await sleep(state.latencyMs, undefined, { signal: kit.signal });

  const scripted = state.script.shift();
  if (scripted) {
    applyScripted(scripted, ctx, state);
    return;
  }

  const parsed = parseJson(raw);
  if (parsed === undefined) {
    reject(state, res, 'invalid', 400, metaErrorBody({ code: 100, details: 'The request body is not valid JSON.' }));
    return;
  }
  const message = validateMessage(parsed);
  if (!message.ok) {
    reject(state, res, 'invalid', 400, metaErrorBody({ code: message.code, details: message.details }));
    return;
  }

  const phoneNumberId = ctx.params['phoneNumberId'] ?? '';
  const waId = toWaId(message.to);
  const sent: SentMessage = {
    wamid: nextWamid(waId),
    phoneNumberId,
    to: message.to,
    type: message.type,
    body: message.body,
    at: Date.now(),
  };
  state.requests.ok += 1;
  state.sent.push(sent);
  sendJson(res, 200, {
    messaging_product: 'whatsapp',
    contacts: [{ input: message.to, wa_id: waId }],
    messages: [{ id: sent.wamid }],
  });
  const webhooks = state.webhooks;
  // Statuses start once the answer is on the wire, as Meta's never precede the API response.
  if (webhooks) res.once('finish', () => webhooks.afterSend(sent, waId));
}

function applyScripted(f: ScriptedFailure, ctx: RouteContext, state: SimulatorState): void {
  const res: ServerResponse = ctx.res;
  switch (f.kind) {
    case 'meta_error':
      reject(
        state,
        res,
        'scripted_error',
        f.httpStatus,
        metaErrorBody({
          code: f.code,
          ...(f.title !== undefined ? { title: f.title } : {}),
          ...(f.message !== undefined ? { details: f.message } : {}),
          ...(f.subcode !== undefined ? { subcode: f.subcode } : {}),
        }),
      );
      return;
    case 'http': {
      state.requests.scripted_error += 1;
      const body = f.body ?? `<html><body><h1>${f.status} Error</h1></body></html>`;
      state.rejected.push({ status: f.status, code: null, details: `scripted HTTP ${f.status}` });
      sendText(res, f.status, body);
      return;
    }
    case 'timeout':
      // Never answer: the socket stays open until the client gives up or close() destroys it.
      state.requests.scripted_error += 1;
      return;
    case 'reset':
      state.requests.scripted_error += 1;
      ctx.req.socket.resetAndDestroy();
      return;
  }
}
