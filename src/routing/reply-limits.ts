import { createHash } from 'node:crypto';
import type { Decision, PriorMessage, RoutingInput } from './decide.js';

/**
 * How much the router answers one conversation. Without a bound, 300 texts from one number got 300
 * menus, and two auto-responders (ours and a customer's) could answer each other forever. Two rules,
 * applied to the routing decision after it is made, from what the decision's input already holds
 * (pure: same input, same answer). The customer's messages are stored all the same (the context
 * query stored them before routing), and a derived conversation's messages still reach its inbox.
 *
 * 1. **No identical reply twice in a short period.** A reply equal to the last one sent in this
 *    conversation less than `replyRepeatMs` before (by WhatsApp time) is not sent again: the customer
 *    still has it on screen. The last reply's fingerprint and time live in `conversaciones.metadata`
 *    (`router_ultima_respuesta`), so this holds with `storeBotReplies` off too. An auto-responder's
 *    answer to our menu gets nothing back, which ends the loop.
 * 2. **No answers to a sender faster than a person.** When this message is at least the
 *    `floodMessages`-th customer message within `floodWindowMs` (counted among the recent messages
 *    the context query returns), nothing is answered, nothing changes state and no ticket is made;
 *    answers resume by themselves once the sender slows down.
 */

/** `conversaciones.metadata` key of the last reply sent: `{ huella, at }`. */
export const LAST_REPLY_KEY = 'router_ultima_respuesta';

export function limitReplies(input: RoutingInput, decision: Decision): Decision {
  if (decision.replies.length === 0) return decision;
  const { settings } = input.catalog;
  const at = input.message.timestamp * 1000;
  if (
    settings.floodMessages > 0 &&
    customerMessagesWithin(input, at, settings.floodWindowMs) >= settings.floodMessages
  ) {
    // An agent's inbox still hears about a message it would have been told of.
    const notify = decision.notify?.event === 'message' ? decision.notify : null;
    return {
      outcome: 'flood_silenced',
      state: null,
      replies: [],
      derivation: null,
      notify,
      warnings: decision.warnings,
    };
  }
  // A derivation's confirmation is a new ticket each time (the anti-loop period covers repeats).
  if (decision.derivation !== null) return decision;
  const fingerprint = fingerprintOf(decision);
  const last = lastReply(input.conversation.metadata);
  if (
    settings.replyRepeatMs > 0 &&
    last !== null &&
    last.fingerprint === fingerprint &&
    at - last.at < settings.replyRepeatMs
  ) {
    // State stays as decided (it is the state the customer is already in); the period runs from the
    // reply actually sent, so a loop partner cannot keep it open forever by writing into it.
    return { ...decision, outcome: 'repeat_suppressed', replies: [] };
  }
  const state = decision.state ?? {};
  return {
    ...decision,
    state: {
      ...state,
      metadata: { ...state.metadata, [LAST_REPLY_KEY]: { huella: fingerprint, at: new Date(at).toISOString() } },
    },
  };
}

/** This message plus the customer's earlier ones less than `windowMs` before it. */
function customerMessagesWithin(input: RoutingInput, at: number, windowMs: number): number {
  const current = input.message.wamid;
  const isCustomer = (m: PriorMessage) =>
    m.direccion === 'entrante' && m.remitente_tipo === 'contacto' && m.whatsapp_message_id !== current;
  return 1 + input.recent.filter((m) => isCustomer(m) && at - Date.parse(m.timestamp) < windowMs).length;
}

/** What the customer would see: the exact contents of the replies. */
function fingerprintOf(decision: Decision): string {
  return createHash('sha256')
    .update(JSON.stringify(decision.replies.map((r) => r.content)))
    .digest('hex')
    .slice(0, 16);
}

function lastReply(metadata: Record<string, unknown> | null): { fingerprint: string; at: number } | null {
  const raw = metadata?.[LAST_REPLY_KEY];
  if (typeof raw !== 'object' || raw === null) return null;
  const { huella, at } = raw as Record<string, unknown>;
  const ms = typeof at === 'string' ? Date.parse(at) : Number.NaN;
  return typeof huella === 'string' && Number.isFinite(ms) ? { fingerprint: huella, at: ms } : null;
}
