import type { Logger } from 'pino';
import { outboundType, graphMessageBody } from '../outbound/message-builders.js';
import { lineFor, type CatalogCache } from '../routing/catalog-cache.js';
import type { Decision, Derivation } from '../routing/decide.js';
import type { Line } from '../routing/types.js';
import type { Queryable } from '../store/db.js';
import type { RoutingWrites } from '../store/routing-writes.js';
import { ROUTER_VERSION } from '../version.js';
import type { InboundMessageEvent } from '../webhook/inbound-event.js';
import { FlowClock } from './flow-clock.js';
import { decideFlow, type FlowDecision } from './flow-dispatch.js';
import type { CommitPlan, MessageHandler, ProcessingContext } from './message-handler.js';

export interface RoutingHandlerDeps {
  catalog: CatalogCache;
  log: Logger;
  /** Called after a commit that queued something to send. */
  onOutbound: () => void;
  /** Called after a commit that derived the conversation to an area. */
  onDerived?: (area: string) => void;
  now?: () => number;
  /** Read by the ads funnel and the autoreplies (sessions, cooldown, agent guard); null: neither runs. */
  db?: Queryable | null;
  /** The flows' clock (tests shift it); default: the message's own time. */
  clock?: FlowClock;
  /** The business's time zone, for autoreply bands (default: the ticket time zone). */
  timeZone?: string;
}

/**
 * The routing step in production: load the (cached) catalog, ask the pure state machine, and turn
 * its decision into writes (data) that the store commits with the event (store/completion-statement.ts).
 */
export function createRoutingHandler(deps: RoutingHandlerDeps): MessageHandler {
  const now = deps.now ?? Date.now;
  const log = deps.log.child({ module: 'routing' });
  const clock = deps.clock ?? new FlowClock();
  return {
    async handle(ctx: ProcessingContext): Promise<CommitPlan> {
      // The wamid was stored before this journal row was ever attempted: a redelivery after the
      // journal forgot it. It was routed back then; answering again would duplicate the reply.
      if (ctx.duplicate && ctx.attempt === 1) return { outcome: 'duplicate' };
      const catalog = await deps.catalog.get();
      const line: Line = lineFor(catalog, ctx.line);
      const flow = await decideFlow(
        ctx,
        {
          line,
          conversation: ctx.conversation,
          created: ctx.created,
          previousWindowEnd: ctx.previousWindowEnd,
          message: ctx.event,
          recent: ctx.recent,
          knownElsewhere: ctx.knownElsewhere,
          catalog,
        },
        { db: deps.db ?? null, clock, timeZone: deps.timeZone ?? catalog.settings.ticketTimeZone, log },
      );
      const decision = flow.decision;
      if (decision.warnings.length > 0)
        log.warn({ conversationId: ctx.conversation.id, warnings: decision.warnings }, 'routing warnings');
      if (
        !decision.state &&
        decision.replies.length === 0 &&
        !decision.notify &&
        !decision.derivation &&
        !decision.flow
      )
        return { outcome: decision.outcome };
      const writes = toWrites(ctx, flow, line, catalog.settings.ticketTimeZone, now());
      return {
        outcome: decision.outcome,
        writes,
        afterCommit: () => {
          if (writes.replies.length > 0 || writes.notify) deps.onOutbound();
          if (writes.derivation) deps.onDerived?.(writes.derivation.area);
        },
      };
    },
  };
}

function toWrites(
  ctx: ProcessingContext,
  flow: FlowDecision,
  line: Line,
  timeZone: string,
  nowMs: number,
): RoutingWrites {
  const { decision } = flow;
  const event = ctx.event;
  const to = event.from ?? event.userId ?? '';
  // Free-form messages need the 24 h customer-service window; the ad's 72 h is a pricing window only (§D24).
  // Evolution lines (WhatsApp Web) have no customer-service window.
  const windowOpen = line.kind === 'evolution' || dateMs(ctx.conversation.ventana_24h_fin) > nowMs;
  const label = line.code.toUpperCase();
  return {
    conversationId: ctx.conversation.id,
    at: new Date(event.timestamp * 1000).toISOString(),
    line: event.line.phoneNumberId,
    lineCode: line.code,
    to,
    phone: event.from ? `+${event.from}` : ctx.conversation.telefono,
    inReplyTo: event.wamid,
    botName: `Router ${label}`,
    state: decision.flow?.pin ? { ...decision.state, area: line.code } : decision.state,
    derivation: decision.derivation
      ? {
          ...derivationWrites(decision.derivation, line, label, event, timeZone),
          ...(decision.derivationLine ? { systemLine: decision.derivationLine } : {}),
        }
      : null,
    replies: decision.replies.map((r, ord) => ({
      ord,
      preview: r.preview,
      tipo: outboundType(r.content),
      body: graphMessageBody(to, r.content),
      estado: windowOpen ? 'pendiente' : 'failed',
      error: windowOpen
        ? null
        : 'outside_24h_window: the customer wrote more than 24 h ago; free-form messages are not allowed',
      store: line.settings.storeBotReplies,
    })),
    notify: decision.notify
      ? {
          url: decision.notify.area.inboxUrl,
          orderKey: `inbox:${decision.notify.area.id}:${ctx.conversation.id}`,
          payload: notificationPayload(ctx, decision, line, event),
        }
      : null,
    flow: decision.flow ? { ...decision.flow, digits: event.from } : null,
    autoreply: flow.autoreply ? { ...flow.autoreply, ord: 0, at: new Date(flow.autoreply.at).toISOString() } : null,
  };
}

/**
 * The rows a derivation leaves for the CRM, as the old router wrote them (R:447-518, R:741-807): the
 * 🤖 line, the ticket's metadata, the audit row the agents page lists (origen router-<line>).
 */
function derivationWrites(
  d: Derivation,
  line: Line,
  label: string,
  event: InboundMessageEvent,
  timeZone: string,
): NonNullable<RoutingWrites['derivation']> {
  const common = {
    area: d.area.id,
    subLabel: d.subLabel,
    reason: d.reason,
    optionSelected: d.optionSelected,
    timeZone,
    version: ROUTER_VERSION,
  };
  const origen = `menu_${line.code}`;
  if (d.course) {
    const c = d.course;
    return {
      ...common,
      systemLine: `🤖 ${label} → ${d.area.name} → Interesado en: ${c.name} (${c.code})`,
      ticketMetadata: {
        curso_id: c.id,
        curso_codigo: c.code,
        curso_nombre: c.name,
        nombre_contacto: event.profileName,
        origen,
      },
      audit: {
        accion: `seleccion_curso_${line.code}`,
        tabla: 'menu_interacciones',
        detalles: `Curso ${c.code} elegido en el menú ${label}: derivado a ${d.area.id} (ticket {ticket})`,
        valores: { curso_id: c.id, curso_codigo: c.code, curso_nombre: c.name, area: d.area.id, derivado: true },
      },
    };
  }
  return {
    ...common,
    systemLine: `🤖 ${label} → ${d.area.id} → ${d.reason ?? ''}`,
    ticketMetadata: {
      menu_option: d.optionSelected,
      mensaje_contexto: d.reason,
      nombre_contacto: event.profileName,
      origen,
    },
    audit: {
      accion: 'derivacion_menu_interactivo',
      tabla: 'conversaciones',
      detalles: `Derivado a ${d.area.id} desde el menú ${label} (${d.optionSelected ?? 'sin opción'}), ticket {ticket}`,
      valores: {
        area: d.area.id,
        estado: 'derivada',
        router_estado: 'derivado',
        menu_option: d.optionSelected,
        subetiqueta: d.subLabel,
      },
    },
  };
}

/** What an area's inbox (n8n) receives: enough to show and answer the conversation. */
function notificationPayload(
  ctx: ProcessingContext,
  decision: Decision,
  line: Line,
  event: InboundMessageEvent,
): Record<string, unknown> {
  const area = decision.notify!.area;
  return {
    event: decision.notify!.event,
    // A derivation's ticket does not exist yet: the completion statement sets this field from the
    // ticket it creates (store/routing-writes.ts), never by rewriting the payload's text.
    ticket: decision.derivation ? null : (ctx.conversation.ticket_id ?? null),
    area: { id: area.id, name: area.name },
    line: {
      code: line.code,
      phoneNumberId: event.line.phoneNumberId,
      name: line.name,
      displayPhoneNumber: event.line.displayPhoneNumber,
    },
    conversation: { id: ctx.conversation.id, estado: decision.state?.estado ?? ctx.conversation.estado },
    contact: {
      id: ctx.conversation.contacto_id,
      phone: event.from ? `+${event.from}` : null,
      userId: event.userId,
      username: event.username,
      name: event.profileName,
    },
    message: {
      id: ctx.messageId,
      wamid: event.wamid,
      type: event.type,
      text: event.text,
      timestamp: new Date(event.timestamp * 1000).toISOString(),
      media: event.media
        ? { id: event.media.id, mimeType: event.media.mimeType, filename: event.media.filename }
        : null,
      contextWamid: event.context?.messageId ?? null,
    },
    derivation: decision.derivation
      ? {
          subLabel: decision.derivation.subLabel,
          reason: decision.derivation.reason,
          fromArea: decision.derivation.fromArea,
        }
      : null,
  };
}

const dateMs = (v: string | null): number => (v ? Date.parse(v) : 0);
