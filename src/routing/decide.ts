import type { InboundMessageEvent } from '../webhook/inbound-event.js';
import { normaliseCommand } from './normalise-command.js';
import { coursePageCount, parseCourseRowId, renderCoursePage } from './render-courses.js';
import { renderMenu } from './render-menu.js';
import type { Area, Catalog, Line, Menu, MenuOption, RenderedMessage } from './types.js';

/** The parts of the conversation row the engine reads. */
export interface ConversationState {
  estado: 'activa' | 'derivada' | 'cerrada';
  router_estado: string | null;
  menu_actual: string | null;
  area: string | null;
  ts_ultima_derivacion: string | null;
  ticket_id: string | null;
  metadata: Record<string, unknown>;
  /** Created by this very message. */
  creada: boolean;
}

export interface PriorMessage {
  direccion: 'entrante' | 'saliente';
  remitente_tipo: string;
  whatsapp_message_id: string | null;
  timestamp: string;
}

export interface RoutingInput {
  line: Line;
  conversation: ConversationState;
  message: InboundMessageEvent;
  /** Messages before this one, newest first (the context query's last 10). */
  recent: readonly PriorMessage[];
  /** The contact already has a conversation on another line (a known customer). */
  knownElsewhere: boolean;
  catalog: Catalog;
}

export interface StatePatch {
  estado?: 'activa' | 'derivada' | 'cerrada';
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
  reason: string | null;
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
    | 'reentry_menu'
    | 'reopened_menu'
    | 'command_menu'
    | 'ignored'
    | 'inbox_note'
    | 'inbox_stored';
  state: StatePatch | null;
  replies: RenderedMessage[];
  derivation: Derivation | null;
  /** Notify the area's inbox about this message (derivation or a message while derived). */
  notify: { area: Area; event: 'derivation' | 'message' } | null;
  warnings: string[];
}

/** Stored and never answered (DESIGN §4.1). */
const NEVER_ANSWERED = new Set(['reaction', 'system', 'unsupported', 'revoke', 'edit']);
const COURSES_PREFIX = 'cursos:';
const DERIVED = 'derivado';
const MAIN = 'menu_principal';

/**
 * The routing state machine of DESIGN §4, as a pure function: same input, same decision. All
 * times come from the message's WhatsApp timestamp, so a message processed late (after an outage)
 * is judged by when the customer wrote it.
 */
export function decide(input: RoutingInput): Decision {
  if (input.line.mode === 'inbox') return decideInboxLine(input);
  const { conversation: conv, message, catalog } = input;
  const at = message.timestamp * 1000;

  if (NEVER_ANSWERED.has(message.type)) {
    // A derived conversation still shows the agent a reaction or an edit; nothing is answered.
    return conv.router_estado === DERIVED && conv.estado !== 'cerrada' ? forward(input, 'forwarded') : nothing('ignored');
  }
  if (isGlobalCommand(message, catalog)) return mainMenu(input, 'command_menu');
  if (conv.creada || conv.router_estado === null) return mainMenu(input, 'menu_sent');
  if (conv.estado === 'cerrada') return mainMenu(input, 'reopened_menu');

  if (conv.router_estado === DERIVED || conv.estado === 'derivada') {
    const silentSince = lastActivity(input.recent, message.wamid);
    if (silentSince !== null && at - silentSince > catalog.settings.reentryMs) return mainMenu(input, 'reentry_menu');
    const tapped = findOptionAnywhere(catalog, tapId(message));
    if (tapped?.option.action === 'derivar' && isRecentDerivationTo(conv, tapped.option.area, at, catalog)) {
      return alreadyDerived(input, tapped.option.area);
    }
    return forward(input, 'forwarded');
  }

  if (conv.menu_actual?.startsWith(COURSES_PREFIX)) return decideInCourses(input);

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

function decideInboxLine(input: RoutingInput): Decision {
  const { conversation: conv, message, catalog } = input;
  if (NEVER_ANSWERED.has(message.type)) return nothing('ignored');
  const known = input.knownElsewhere || input.recent.some((m) => m.remitente_tipo === 'agente');
  const lastNote = typeof conv.metadata['nota_inbox_at'] === 'string' ? Date.parse(conv.metadata['nota_inbox_at']) : null;
  const at = message.timestamp * 1000;
  if (known || (lastNote !== null && at - lastNote < catalog.settings.inboxNoteCooldownMs)) return nothing('inbox_stored');
  return {
    ...nothing('inbox_note'),
    state: { metadata: { nota_inbox_at: new Date(at).toISOString() } },
    replies: [text(catalog.texts.inboxLineNote)],
  };
}

function decideInCourses(input: RoutingInput): Decision {
  const { conversation: conv, message, catalog } = input;
  const [, launcherId = '', pageText = '0'] = (conv.menu_actual ?? '').split(':');
  const page = Number.parseInt(pageText, 10) || 0;
  const launcher = findOptionAnywhere(catalog, launcherId)?.option ?? null;
  const id = tapId(message) ?? numberedCourseRow(catalog, page, message);
  const parsed = id ? parseCourseRowId(id) : null;
  if (parsed?.kind === 'back') return mainMenu(input, 'menu_sent');
  if (parsed?.kind === 'page') return coursesPage(input, launcherId, parsed.page);
  if (parsed?.kind === 'course') {
    const course = catalog.courses.find((c) => c.code === parsed.code);
    if (course && launcher) {
      return derive(input, launcher.area, launcher.subLabel ? `${launcher.subLabel}:${course.code}` : course.code, `Curso: ${course.name}`);
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
      const sub = option.submenuId ? catalog.menus.get(option.submenuId) : undefined;
      if (!sub) return { ...showMenu(from, input, 'menu_repeated'), warnings: [`option ${option.optionId}: submenu ${option.submenuId ?? '(none)'} is missing or inactive`] };
      return showMenu(sub, input, 'submenu_sent');
    }
    case 'volver':
      return mainMenu(input, 'menu_sent');
    case 'cursos_dinamico':
      return coursesPage(input, option.optionId, 0);
    case 'derivar':
      return derive(input, option.area, option.subLabel, option.contextMessage ?? option.title);
  }
}

function derive(input: RoutingInput, areaId: string | null, subLabel: string | null, reason: string | null): Decision {
  const { conversation: conv, catalog } = input;
  const at = input.message.timestamp * 1000;
  const warnings: string[] = [];
  if (!areaId) return { ...showMenu(currentMenu(input), input, 'menu_repeated'), warnings: ['derivation option without area_destino'] };
  if (isRecentDerivationTo(conv, areaId, at, catalog)) return alreadyDerived(input, areaId);
  const area = resolveArea(catalog, areaId, warnings);
  return {
    outcome: 'derived',
    state: { estado: 'derivada', router_estado: DERIVED, menu_actual: null, area: area.id },
    replies: [text(catalog.texts.derivationConfirmation.replaceAll('{area}', area.name))],
    derivation: { area, fromArea: conv.area, subLabel, reason },
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

function forward(input: RoutingInput, outcome: 'forwarded'): Decision {
  const warnings: string[] = [];
  const area = input.conversation.area ? resolveArea(input.catalog, input.conversation.area, warnings) : null;
  return { outcome, state: null, replies: [], derivation: null, notify: area ? { area, event: 'message' } : null, warnings };
}

function mainMenu(input: RoutingInput, outcome: Decision['outcome']): Decision {
  const main = input.catalog.menus.get(input.catalog.settings.mainMenuId);
  if (!main) {
    return { ...nothing(outcome), state: { estado: 'activa', router_estado: MAIN, menu_actual: null }, warnings: [`main menu ${input.catalog.settings.mainMenuId} is missing or inactive`] };
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

function coursesPage(input: RoutingInput, launcherId: string, page: number, outcome: Decision['outcome'] = 'courses_sent'): Decision {
  const { catalog } = input;
  const pages = Math.max(1, coursePageCount(catalog.courses.length));
  const clamped = Math.min(Math.max(0, page), pages - 1);
  const rendered = renderCoursePage(catalog.courses, clamped, catalog.texts);
  return {
    outcome,
    state: { estado: 'activa', router_estado: 'submenu_cursos', menu_actual: `${COURSES_PREFIX}${launcherId}:${rendered.page}` },
    replies: [rendered],
    derivation: null,
    notify: null,
    warnings: rendered.warnings,
  };
}

function currentMenu(input: RoutingInput): Menu {
  const { catalog, conversation } = input;
  const main = catalog.menus.get(catalog.settings.mainMenuId);
  const current = conversation.menu_actual ? catalog.menus.get(conversation.menu_actual) : undefined;
  return current ?? main ?? { id: catalog.settings.mainMenuId, name: 'Menú', header: null, body: '', footer: null, buttonText: null, kind: 'text', parentMenuId: null, options: [] };
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
  const candidate = message.type === 'text' ? message.text : message.type === 'button' ? (message.interactive?.title ?? null) : null;
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
