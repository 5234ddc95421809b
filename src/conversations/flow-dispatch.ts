import type { Logger } from 'pino';
import { decideAds } from '../routing/ads/decide-ads.js';
import { EMPTY_ADS_CATALOG } from '../routing/ads/ads-types.js';
import { decideAutoreply, type AutoreplyDecision } from '../routing/autoreply/decide-autoreply.js';
import { decide, type Decision, type RoutingInput } from '../routing/decide.js';
import type { RenderedMessage } from '../routing/types.js';
import type { Queryable } from '../store/db.js';
import { loadFlowFacts } from '../store/flow-context-query.js';
import type { FlowClock } from './flow-clock.js';
import type { ProcessingContext } from './message-handler.js';

export interface FlowDecision {
  decision: Decision;
  /** The autoreply prepended to the flow's replies (ord 0), when one is due. */
  autoreply: { line: string; band: number; text: string; at: number } | null;
}

/**
 * Which flow answers a line (router_lineas.flujo): the main menu (decide.ts), the ads funnel
 * (ads/decide-ads.ts) or an inbox; then the line's autoreply (autoreply/decide-autoreply.ts), which
 * never replaces the flow's answer: it goes first, as the old router sent it before the flow ran.
 * Like the menu, it reaches derived conversations too; the agent guard keeps it out of a live chat.
 */
export async function decideFlow(
  ctx: ProcessingContext,
  input: RoutingInput,
  deps: { db: Queryable | null; clock: FlowClock; timeZone: string; log: Logger },
): Promise<FlowDecision> {
  const { catalog, line } = input;
  const config = catalog.autoreplies?.get(line.code) ?? null;
  // Evolution lines: staff typing on the line's phone, and group chats, get no autoreply either.
  const phoneDigits = ctx.event.fromMe === true || ctx.event.group === true ? null : ctx.event.from;
  const at = deps.clock.at(ctx.event.timestamp * 1000);
  const autoreplyInput = {
    config,
    messageType: ctx.event.type,
    fromAd: ctx.event.referral !== null,
    at,
    messageAt: ctx.event.timestamp * 1000,
    timeZone: deps.timeZone,
    lastSentAt: null,
    lastAgentAt: null,
  };
  // Only a message that would get an autoreply but for the cooldown or the agent guard needs their facts:
  // with autoreplies off (or for a tap) the main menu costs no extra round trip.
  const autoreplyPossible = phoneDigits !== null && decideAutoreply(autoreplyInput).send;
  const needsFacts = deps.db !== null && (line.flow === 'ads' || autoreplyPossible);
  const facts = needsFacts
    ? await loadFlowFacts(deps.db!, {
        conversationId: ctx.conversation.id,
        digits: phoneDigits,
        line: line.code,
        sessions: line.flow === 'ads',
        autoreply: autoreplyPossible,
      })
    : { sessions: [], lastAutoreplyAt: null, lastAgentAt: null };
  const decision =
    line.flow === 'ads'
      ? decideAds({ ...input, ads: catalog.ads ?? EMPTY_ADS_CATALOG, sessions: facts.sessions })
      : decide(input);
  const auto: AutoreplyDecision = decideAutoreply({
    ...autoreplyInput,
    lastSentAt: facts.lastAutoreplyAt,
    lastAgentAt: facts.lastAgentAt,
  });
  if (config !== null)
    deps.log.debug(
      { conversationId: ctx.conversation.id, line: line.code, autoreply: auto.send ? auto.band : auto.reason },
      'autoreply',
    );
  if (!auto.send || phoneDigits === null) return { decision, autoreply: null };
  const reply: RenderedMessage = { content: { kind: 'text', body: auto.text }, preview: auto.text, warnings: [] };
  return {
    decision: { ...decision, replies: [reply, ...decision.replies] },
    autoreply: { line: line.code, band: auto.band, text: auto.text, at },
  };
}
