import type { InboundMessageEvent } from '../webhook/inbound-event.js';
import { normaliseCommand } from './normalise-command.js';
import { coursePageCount, parseCourseRowId, renderCoursePage } from './render-courses.js';
import { renderMenu } from './render-menu.js';
import { limitReplies } from './reply-limits.js';
import type { FlowEffects } from './flow-effects.js';
import type { Area, Catalog, Course, Line, Menu, MenuOption, RenderedMessage } from './types.js';

/** The parts of the conversation row the engine reads (the CRM's `conversaciones`). */
export interface ConversationState {
  /** The CRM's domain: activa, derivada, cerrada, nueva, abierta, esperando, resuelta … */
  estado: string | null;
  router_estado: string | null;
  menu_actual: string | null;
  area: string | null;
  ts_ultima_derivacion: string | null;
  ticket_id: string | null;
  metadata: Record<string, unknown> | null;
  desconectado_wsp4: boolean | null;
  desconectado_ventas_api: boolean | null;
  inbox_fijo: string | null;
}

export interface PriorMessage {
  /** entrante | saliente; with remitente_tipo contacto | bot | agente | sistema. */
  direccion: string;
  remitente_tipo: string | null;
  whatsapp_message_id: string | null;
  timestamp: string;
}

export interface RoutingInput {
  line: Line;
  conversation: ConversationState;
  /** The conversation was created by this very message. */
  created: boolean;
  /** `ventana_24h_fin` before this message rolled it (null when unknown). */
  previousWindowEnd: string | null;
  message: InboundMessageEvent;
  /** Messages before this one, newest first (the context query's last 10). */
  recent: readonly PriorMessage[];
  /** The contact already has a conversation on another line (a known customer). */
  knownElsewhere: boolean;
  catalog: Catalog;
}

export interface StatePatch {
  estado?: string;
  router_estado?: string | null;
  menu_actual?: string | null;
  area?: string | null;
  /** Merged into conversaciones.metadata. */
  metadata?: Record<string, unknown>;
}

export interface Derivation {
  area: Area;
  fromArea: string | null;
  subLabel: string | null;
  /** The option's mensaje_contexto (or title): motivo, and the tail of the 🤖 line. */
  reason: string | null;
  /** derivaciones.menu_option_selected: opcion_id, or curso_{id}. */
  optionSelected: string | null;
  course: Course | null;
}

export interface Decision {
  outcome:
    | 'menu_sent'
    | 'submenu_sent'
    | 'courses_sent'
    | 'menu_repeated'
    | 'derived'
    | 'already_derived'
    | 'forwarded'
    | 'forwarded_disconnected'
    | 'reentry_menu'
    | 'reopened_menu'
    | 'command_menu'
    | 'ignored'
    | 'inbox_note'
    | 'inbox_stored'
    /** The same reply was sent moments ago (reply-limits.ts): nothing sent. */
    | 'repeat_suppressed'
    /** The sender writes faster than a person (reply-limits.ts): nothing answered. */
    | 'flood_silenced'
    /** The ads funnel (routing/ads/decide-ads.ts). */
    | 'ad_entry'
    | 'ad_unknown'
    | 'ads_answer'
    | 'ads_list'
    | 'ads_buttons'
    | 'web_lead'
    | 'stale_tap';
  state: StatePatch | null;
  replies: RenderedMessage[];
  derivation: Derivation | null;
  /** Notify the area's inbox about this message (derivation or a message while derived). */
  notify: { area: Area; event: 'derivation' | 'message' } | null;
  warnings: string[];
  /** Rows a flow other than the menu leaves for the statistics (flow-effects.ts). */
  flow?: FlowEffects;
  /** The 🤖 line of the derivation, when the flow words it itself. */
  derivationLine?: string;
}

/** Stored and never answered (DESIGN §4.1). */
const NEVER_ANSWERED = new Set(['reaction', 'system', 'unsupported', 'revoke', 'edit']);
const COURSES_MENU = 'cursos';
const DERIVED = 'derivado';
const MAIN = 'menu_principal';

/**
 * The routing state machine (DESIGN §4 as CRM-CONTRACT §12 amends it), as a pure function: same
 * input, same decision. All times come from the message's WhatsApp timestamp (the receive time when
 * Meta's was ahead of it: webhook/normalise-message.ts), so a message processed late (after an
 * outage) is judged by when the customer wrote it. In order:
 *   1. disconnected by the CRM ("Desconectar del Router", inbox_fijo) → store and forward, never answer;
 *   2. reactions, statuses, system events → stored, never answered (forwarded when an agent has it);
 *   3. closed by an agent → main menu;
 *   4. derived → the agent's: everything forwarded, nothing answered, unless the customer comes back
 *      after the re-entry period (or a global command, where the line allows it);
 *   5. global commands → main menu; 6. new → main menu; 7. menu states.
 * Then the reply limits (reply-limits.ts): no identical reply twice within a short period, no
 * answers to a sender faster than a person.
 */
export function decide(input: RoutingInput): Decision {
  return limitReplies(input, route(input));
}

function route(input: RoutingInput): Decision {
  // Evolution lines: what staff typed on the line's own phone, and group chats, are only stored.
  if (input.message.fromMe === true || input.message.group === true) return nothing('ignored');
  if (input.line.flow === 'inbox') return decideInboxLine(input);
  const { conversation: conv, message, catalog, line } = input;
  const at = message.timestamp * 1000;
  const derived = conv.router_estado === DERIVED || conv.estado === 'derivada';
  const closed = conv.estado === 'cerrada';

  if (line.settings.honourDisconnect && isDisconnected(conv))
    return forward(input, 'forwarded_disconnected', conv.inbox_fijo ?? conv.area);
  if (NEVER_ANSWERED.has(message.type)) {
    // An agent's conversation still shows them a reaction or an edit; nothing is answered.
    return derived && !closed ? forward(input, 'forwarded', conv.area) : nothing('ignored');
  }
  if (closed) return line.settings.closedRestartsMenu ? mainMenu(input, 'reopened_menu') : nothing('ignored');
  if (derived && !input.created) {
    if (line.settings.reentryAfterWindow && cameBackAfterWindow(input, at)) return mainMenu(input, 'reentry_menu');
    if (line.settings.commandsWhenDerived && isGlobalCommand(message, catalog)) return mainMenu(input, 'command_menu');
    return forward(input, 'forwarded', conv.area);
  }
  if (isGlobalCommand(message, catalog)) return mainMenu(input, 'command_menu');
  if (input.created || conv.router_estado === null) return mainMenu(input, 'menu_sent');

  if (conv.menu_actual === COURSES_MENU) return decideInCourses(input);

  const menu = currentMenu(input);
  const selected = selectOption(menu, message);
  if (selected) return runOption(input, selected, menu);
  // A tap from an older list (not the menu the customer is in now): never a second ticket.
  const stale = findOptionAnywhere(catalog, tapId(message));
  if (stale?.option.action === 'derivar' && isRecentDerivationTo(conv, stale.option.area, at, catalog)) {
    return alreadyDerived(input, stale.option.area);
  }
  return showMenu(menu, input, 'menu_repeated');
}

/** The CRM's "Desconectar del Router" (CH:289-297) and "Nuevo chat" (CP:240) leave these. */
function isDisconnected(conv: ConversationState): boolean {
  return (
    conv.desconectado_wsp4 === true || conv.desconectado_ventas_api === true || (conv.inbox_fijo ?? '').trim() !== ''
  );
}

/**
 * The customer comes back after the re-entry period: nobody (customer or agent) wrote for longer
 * than it. The last such message is among the recent ones; when none is (an agent wrote ten times
 * since), the stored window end stands in for it.
 */
function cameBackAfterWindow(input: RoutingInput, at: number): boolean {
  const last = lastActivity(input.recent, input.message.wamid);
  if (last !== null) return at - last > input.catalog.settings.reentryMs;
  if (input.previousWindowEnd === null) return false;
  return at > Date.parse(input.previousWindowEnd);
}

function decideInboxLine(input: RoutingInput): Decision {
  const { conversation: conv, message, catalog } = input;
  if (NEVER_ANSWERED.has(message.type)) return nothing('ignored');
  return { ...inboxLineNote(input), notify: inboxOfLine(input) };
}

/**
 * The area whose inbox hears an inbox line's messages: the conversation's fixed inbox or area (a
 * new conversation's area is the line's code), when router_areas has it with a webhook URL.
 */
function inboxOfLine(input: RoutingInput): Decision['notify'] {
  const conv = input.conversation;
  const id = (conv.inbox_fijo ?? '').trim() || conv.area || input.line.code;
  const area = input.catalog.areas.get(id);
  return area?.inboxUrl ? { area, event: 'message' } : null;
}

function inboxLineNote(input: RoutingInput): Decision {
  const { conversation: conv, message, catalog } = input;
  if (!input.line.settings.inboxNote) return nothing('inbox_stored');
  const known = input.knownElsewhere || input.recent.some((m) => m.remitente_tipo === 'agente');
  const noted = conv.metadata?.['nota_inbox_at'];
  const lastNote = typeof noted === 'string' ? Date.parse(noted) : null;
  const at = message.timestamp * 1000;
  if (known || (lastNote !== null && at - lastNote < catalog.settings.inboxNoteCooldownMs))
    return nothing('inbox_stored');
  return {
    ...nothing('inbox_note'),
    state: { metadata: { nota_inbox_at: new Date(at).toISOString() } },
    replies: [text(catalog.texts.inboxLineNote)],
  };
}

function decideInCourses(input: RoutingInput): Decision {
  const { conversation: conv, message, catalog } = input;
  const where = coursesPosition(conv);
  const launcherId = where.launcher;
  const page = where.page;
  const launcher = findOptionAnywhere(catalog, launcherId)?.option ?? null;
  const id = tapId(message) ?? numberedCourseRow(catalog, page, message);
  const parsed = id ? parseCourseRowId(id) : null;
  if (parsed?.kind === 'back') return mainMenu(input, 'menu_sent');
  if (parsed?.kind === 'page') return coursesPage(input, launcherId, parsed.page);
  if (parsed?.kind === 'course') {
    const course = catalog.courses.find((c) => c.id === parsed.id);
    if (course) {
      // The old router sent every course to Ventas (R:455); a launcher option may name its own area.
      const area = launcher?.area ?? 'ventas';
      return derive(
        input,
        area,
        launcher?.subLabel ? `${launcher.subLabel}:${course.code}` : course.code,
        `Interesado en: ${course.name} (${course.code})`,
        `curso_${course.id}`,
        course,
      );
    }
  }
  return coursesPage(input, launcherId, page, 'menu_repeated');
}

/** A number typed on a course page selects the Nth row of that page (course or navigation). */
function numberedCourseRow(catalog: Catalog, page: number, message: InboundMessageEvent): string | null {
  const n = typedNumber(message);
  if (n === null) return null;
  const rendered = renderCoursePage(catalog.courses, page, catalog.texts).content;
  if (rendered.kind !== 'list') return null;
  const rows = rendered.sections.flatMap((s) => s.rows);
  return rows[n - 1]?.id ?? null;
}

function runOption(input: RoutingInput, option: MenuOption, from: Menu): Decision {
  const { catalog } = input;
  switch (option.action) {
    case 'submenu': {
      // The CRM's option editor never sets submenu_id (AJ:384-420): a menu named like the option stands in.
      const sub = catalog.menus.get(option.submenuId ?? option.optionId);
      if (!sub)
        return {
          ...showMenu(from, input, 'menu_repeated'),
          warnings: [`option ${option.optionId}: submenu ${option.submenuId ?? '(none)'} is missing or inactive`],
        };
      return showMenu(sub, input, 'submenu_sent');
    }
    case 'volver':
      return mainMenu(input, 'menu_sent');
    case 'cursos_dinamico':
      return coursesPage(input, option.optionId, 0);
    case 'derivar':
      return derive(input, option.area, option.subLabel, option.contextMessage ?? option.title, option.optionId, null);
  }
}

function derive(
  input: RoutingInput,
  areaId: string | null,
  subLabel: string | null,
  reason: string | null,
  optionSelected: string | null,
  course: Course | null,
): Decision {
  const { conversation: conv, catalog } = input;
  const at = input.message.timestamp * 1000;
  const warnings: string[] = [];
  if (!areaId)
    return {
      ...showMenu(currentMenu(input), input, 'menu_repeated'),
      warnings: ['derivation option without area_destino'],
    };
  if (isRecentDerivationTo(conv, areaId, at, catalog)) return alreadyDerived(input, areaId);
  const area = resolveArea(catalog, areaId, warnings);
  return {
    outcome: 'derived',
    state: { estado: 'derivada', router_estado: DERIVED, menu_actual: null, area: area.id },
    replies: [text(catalog.texts.derivationConfirmation.replaceAll('{area}', area.name))],
    derivation: { area, fromArea: conv.area, subLabel, reason, optionSelected, course },
    notify: { area, event: 'derivation' },
    warnings,
  };
}

function alreadyDerived(input: RoutingInput, areaId: string | null): Decision {
  const warnings: string[] = [];
  const area = resolveArea(input.catalog, areaId ?? input.conversation.area ?? 'desconocida', warnings);
  return {
    outcome: 'already_derived',
    state: { estado: 'derivada', router_estado: DERIVED, menu_actual: null, area: area.id },
    replies: [text(input.catalog.texts.alreadyDerived.replaceAll('{area}', area.name))],
    derivation: null,
    notify: { area, event: 'message' },
    warnings,
  };
}

function forward(
  input: RoutingInput,
  outcome: 'forwarded' | 'forwarded_disconnected',
  areaId: string | null,
): Decision {
  const warnings: string[] = [];
  const area = areaId && areaId !== input.line.code ? resolveArea(input.catalog, areaId, warnings) : null;
  return {
    outcome,
    state: null,
    replies: [],
    derivation: null,
    notify: area ? { area, event: 'message' } : null,
    warnings,
  };
}

function mainMenu(input: RoutingInput, outcome: Decision['outcome']): Decision {
  const main = input.catalog.menus.get(input.catalog.settings.mainMenuId);
  if (!main) {
    return {
      ...nothing(outcome),
      state: { estado: 'activa', router_estado: MAIN, menu_actual: null },
      warnings: [`main menu ${input.catalog.settings.mainMenuId} is missing or inactive`],
    };
  }
  return showMenu(main, input, outcome);
}

function showMenu(menu: Menu, input: RoutingInput, outcome: Decision['outcome']): Decision {
  const rendered = renderMenu(menu, input.catalog.texts);
  const isMain = menu.id === input.catalog.settings.mainMenuId;
  return {
    outcome,
    state: { estado: 'activa', router_estado: isMain ? MAIN : `submenu_${menu.id}`, menu_actual: menu.id },
    replies: [rendered],
    derivation: null,
    notify: null,
    warnings: rendered.warnings,
  };
}

function coursesPage(
  input: RoutingInput,
  launcherId: string,
  page: number,
  outcome: Decision['outcome'] = 'courses_sent',
): Decision {
  const { catalog } = input;
  const pages = Math.max(1, coursePageCount(catalog.courses.length));
  const clamped = Math.min(Math.max(0, page), pages - 1);
  const rendered = renderCoursePage(catalog.courses, clamped, catalog.texts);
  return {
    outcome,
    state: {
      estado: 'activa',
      router_estado: 'submenu_cursos',
      menu_actual: COURSES_MENU,
      metadata: { cursos: { lanzador: launcherId, pagina: rendered.page } },
    },
    replies: [rendered],
    derivation: null,
    notify: null,
    warnings: rendered.warnings,
  };
}

/** Which course page the customer is on (kept in conversaciones.metadata; menu_actual is just 'cursos'). */
function coursesPosition(conv: ConversationState): { launcher: string; page: number } {
  const raw = conv.metadata?.['cursos'];
  const c = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return {
    launcher: typeof c['lanzador'] === 'string' ? c['lanzador'] : '',
    page: typeof c['pagina'] === 'number' && Number.isInteger(c['pagina']) ? c['pagina'] : 0,
  };
}

function currentMenu(input: RoutingInput): Menu {
  const { catalog, conversation } = input;
  const main = catalog.menus.get(catalog.settings.mainMenuId);
  const current = conversation.menu_actual ? catalog.menus.get(conversation.menu_actual) : undefined;
  return (
    current ??
    main ?? {
      id: catalog.settings.mainMenuId,
      name: 'Menú',
      header: null,
      body: '',
      footer: null,
      buttonText: null,
      kind: 'text',
      parentMenuId: null,
      options: [],
    }
  );
}

/** The option of `menu` chosen by a tap on one of its rows, or by typing its position. */
function selectOption(menu: Menu, message: InboundMessageEvent): MenuOption | null {
  const id = tapId(message);
  if (id !== null) return menu.options.find((o) => o.optionId === id) ?? null;
  const n = typedNumber(message);
  return n !== null ? (menu.options[n - 1] ?? null) : null;
}

function tapId(message: InboundMessageEvent): string | null {
  if (!message.interactive) return null;
  return message.interactive.id;
}

function typedNumber(message: InboundMessageEvent): number | null {
  if (message.type !== 'text' || !message.text) return null;
  const t = message.text.trim();
  return /^\d{1,2}$/.test(t) ? Number(t) : null;
}

function isGlobalCommand(message: InboundMessageEvent, catalog: Catalog): boolean {
  const candidate =
    message.type === 'text' ? message.text : message.type === 'button' ? (message.interactive?.title ?? null) : null;
  return candidate !== null && catalog.settings.globalCommands.includes(normaliseCommand(candidate));
}

function findOptionAnywhere(catalog: Catalog, id: string | null): { menu: Menu; option: MenuOption } | null {
  if (!id) return null;
  for (const menu of catalog.menus.values()) {
    const option = menu.options.find((o) => o.optionId === id);
    if (option) return { menu, option };
  }
  return null;
}

function isRecentDerivationTo(conv: ConversationState, areaId: string | null, at: number, catalog: Catalog): boolean {
  if (!areaId || conv.area !== areaId || !conv.ts_ultima_derivacion) return false;
  return at - Date.parse(conv.ts_ultima_derivacion) < catalog.settings.antiLoopMs;
}

/** Newest activity before this message: the customer's previous message or an agent's message. */
function lastActivity(recent: readonly PriorMessage[], currentWamid: string): number | null {
  let latest: number | null = null;
  for (const m of recent) {
    if (m.whatsapp_message_id === currentWamid) continue;
    const counts = m.direccion === 'entrante' || m.remitente_tipo === 'agente';
    if (!counts) continue;
    const t = Date.parse(m.timestamp);
    if (latest === null || t > latest) latest = t;
  }
  return latest;
}

function resolveArea(catalog: Catalog, id: string, warnings: string[]): Area {
  const area = catalog.areas.get(id);
  if (area) return area;
  warnings.push(`area ${id} is not in router_areas; its inbox cannot be notified`);
  return { id, name: id, inboxUrl: null };
}

function text(body: string): RenderedMessage {
  return { content: { kind: 'text', body }, preview: body, warnings: [] };
}

function nothing(outcome: Decision['outcome']): Decision {
  return { outcome, state: null, replies: [], derivation: null, notify: null, warnings: [] };
}
