import type { ConversationState, Decision, RoutingInput } from '../decide.js';
import { NO_FLOW_EFFECTS, type FlowEffects, type SessionEffect } from '../flow-effects.js';
import type { Area } from '../types.js';
import type { AdCourse, AdOption, AdsCatalog, AdsPosition, LeadSession } from './ads-types.js';
import { ADS_TEXTS } from './ads-texts.js';
import {
  courseList,
  courseMenu,
  directButtons,
  directCourses,
  DIRECT_IDS,
  optionPage,
  parseNavId,
  parseOptionPageId,
  text,
} from './render-ads.js';
import { matchWebCourse, webLeadName } from './web-lead.js';

export interface AdsInput extends RoutingInput {
  ads: AdsCatalog;
  /** This lead's `menu_sesiones` rows. */
  sessions: readonly LeadSession[];
}

/** The sales inbox the funnel pins conversations to (CRM-CONTRACT §8). */
export const SALES_AREA = 'ventas_api';
const DERIVED = 'derivado';
const STEP = { buttons: 'ads_botones', list: 'ads_cursos', menu: 'ads_menu' } as const;
const NEVER_ANSWERED = new Set(['reaction', 'system', 'unsupported', 'revoke', 'edit']);

/**
 * The ads number's funnel (FLOWS.md §A, with §D's fixes), as a pure function like decide.ts. In order:
 *   1. reactions and system events: stored, never answered;
 *   2. a conversation an agent closed ends its sessions (`finalizado`) and starts over;
 *   3. a click-to-WhatsApp ad: a configured, active ad runs its course's funnel (greeting, welcome,
 *      option list), counts one execution and pins the conversation to the sales inbox; an unknown
 *      or inactive ad gets the direct-entry buttons, never silence (§D1);
 *   4. derived (handed to an agent): stored and forwarded, nothing executed (§D14);
 *   5. taps: executed only when they belong to what the lead was shown last (the course's option
 *      list, the course list, the buttons); any other tap is answered with the current menu (§D14);
 *   6. text: ignored while pinned (the agents have it), a web lead's text starts its course (§A5),
 *      anything else gets the direct-entry buttons.
 * Every reply is a stored `bot` message and every executed tap leaves its rows (flow-effects.ts).
 */
export function decideAds(input: AdsInput): Decision {
  const { conversation: conv, message } = input;
  const derived = conv.router_estado === DERIVED || conv.estado === 'derivada';
  const closed = conv.estado === 'cerrada';
  if (NEVER_ANSWERED.has(message.type)) return derived && !closed ? forward(input) : nothing('ignored');
  if (closed) {
    const restart = fresh(input);
    return { ...restart, flow: { ...(restart.flow ?? NO_FLOW_EFFECTS), finishSessions: true } };
  }
  if (message.referral && (message.referral.sourceType ?? 'ad') === 'ad' && message.referral.sourceId)
    return adEntry(input, message.referral.sourceId);
  if (derived && !input.created) return forward(input);
  return fresh(input);
}

/** A conversation without a funnel step that binds it (new, closed, or between steps). */
function fresh(input: AdsInput): Decision {
  const { conversation: conv, message } = input;
  const closed = conv.estado === 'cerrada';
  const tapped = message.interactive?.id ?? null;
  if (tapped) return tap(input, tapped, closed);
  if (isPinned(conv) && !closed) return forward(input);
  const webName = webLeadName(message.text);
  if (webName !== null) return webLead(input, webName);
  return buttons(input, 'ads_buttons');
}

function adEntry(input: AdsInput, adId: string): Decision {
  const { ads, message } = input;
  const referral = message.referral!;
  const config = ads.ads.get(adId);
  const course = config ? ads.courses.get(config.courseId) : undefined;
  const attribution = {
    adConfigId: config?.id ?? null,
    adId,
    ctwaClid: referral.ctwaClid,
    referral: { ...referral },
  };
  if (!config || !course || !course.active) {
    // §D1: the lead still gets an answer, and the click is attributed to its ad.
    const d = buttons(input, 'ad_unknown');
    return {
      ...d,
      flow: { ...d.flow!, session: session(input, null, 'ctwa', attribution) },
      warnings: [`ad ${adId}: no active config_cursos_ctwa row with an active course`],
    };
  }
  const flow: FlowEffects = {
    ...NO_FLOW_EFFECTS,
    adEntry: { configId: config.id, adId, name: config.name },
    session: session(input, course.id, 'ctwa', attribution),
    pin: {
      reason: `Ingreso CTWA - Curso: ${course.code}`,
      systemLine: `🤖 Ingreso CTWA - Curso: ${course.code}`,
      byAd: true,
    },
  };
  if (course.options.length === 0) return handOff(input, course, flow, ADS_TEXTS.noMenu(course.name), 'sin menú', true);
  return menuOf(input, course, { greeting: true, welcome: true }, 'ad_entry', flow);
}

function tap(input: AdsInput, id: string, closed: boolean): Decision {
  const { ads, conversation: conv } = input;
  const step = closed ? null : conv.router_estado;
  const pos = position(conv);
  if (id === DIRECT_IDS.courses || id === DIRECT_IDS.specialisations) {
    if (step !== STEP.buttons && step !== STEP.list) return stale(input);
    return list(input, id === DIRECT_IDS.courses ? 'curso' : 'especializacion', 1);
  }
  if (id === DIRECT_IDS.agent) {
    if (step !== STEP.buttons && step !== STEP.list) return stale(input);
    const flow = {
      ...NO_FLOW_EFFECTS,
      session: { ...session(input, null, 'directo'), estado: 'derivado' as const, interaction: true },
    };
    return derive(input, flow, ADS_TEXTS.agent, 'Entrada directa - Solicitó agente', DIRECT_IDS.agent, null);
  }
  const nav = parseNavId(id);
  if (nav) return step === STEP.list && pos.kind === nav.kind ? list(input, nav.kind, nav.page) : stale(input);
  if (id.startsWith('curso_')) {
    const course = ads.courses.get(id.slice('curso_'.length));
    const offered =
      step === STEP.list && pos.kind !== null && directCourses(ads.courses.values(), pos.kind).includes(course!);
    if (!course || !offered) return stale(input);
    const flow = { ...NO_FLOW_EFFECTS, session: session(input, course.id, 'directo') };
    if (course.options.length === 0)
      return handOff(input, course, flow, ADS_TEXTS.noMenu(course.name), 'sin menú', false);
    return menuOf(input, course, { greeting: false, welcome: true }, 'ads_list', flow);
  }
  const page = parseOptionPageId(id);
  if (page) {
    const course = ads.courses.get(page.courseId);
    if (!course || step !== STEP.menu || pos.course !== course.id) return stale(input);
    return menuOf(input, course, { greeting: false, welcome: false }, 'ads_list', NO_FLOW_EFFECTS, page.page);
  }
  const course = pos.course ? ads.courses.get(pos.course) : undefined;
  const option = course?.options.find((o) => o.id === id);
  // §D14: an option of another course, of an older list, or after the hand-off is not executed.
  if (!course || !option || step !== STEP.menu) return stale(input);
  return runOption(input, course, option);
}

function runOption(input: AdsInput, course: AdCourse, option: AdOption): Decision {
  const existing = input.sessions.find((s) => s.courseId === course.id);
  const origen = originOf(existing?.origen) ?? position(input.conversation).origen ?? 'directo';
  const base = session(input, course.id, origen);
  const tapRow = {
    courseId: course.id,
    courseCode: course.code,
    courseName: course.name,
    optionId: option.id,
    optionTitle: option.title,
    optionType: option.type,
    adConfigId: existing?.adConfigId ?? null,
    adId: existing?.adId ?? null,
    ctwaClid: existing?.ctwaClid ?? null,
  };
  if (option.type === 'info') {
    const field = option.infoField ? course.fields[option.infoField] : null;
    const body = option.customReply?.trim() || (typeof field === 'string' && field.trim()) || ADS_TEXTS.infoMissing;
    const replies = [text(body)];
    if (option.showMenuAfter) replies.push(...courseMenu(course, { greeting: false, welcome: false }));
    return {
      ...nothing('ads_answer'),
      state: menuState(input, course),
      replies,
      warnings: replies.flatMap((r) => r.warnings),
      flow: {
        ...NO_FLOW_EFFECTS,
        session: { ...base, interaction: true },
        tap: { ...tapRow, answered: true, derived: false },
      },
    };
  }
  const enrol = option.type === 'inscribir';
  const flow: FlowEffects = {
    ...NO_FLOW_EFFECTS,
    session: { ...base, estado: 'derivado', interaction: true },
    tap: { ...tapRow, answered: true, derived: true },
  };
  const reply = option.derivationMessage?.trim() || (enrol ? ADS_TEXTS.enrol : ADS_TEXTS.derive);
  const reason = `${enrol ? 'Inscripción' : 'Derivación'} - Curso: ${course.code}`;
  return derive(input, flow, reply, reason, option.id, course);
}

function webLead(input: AdsInput, name: string): Decision {
  const course = matchWebCourse(name, input.ads);
  const firstWords = input.message.text;
  if (!course) {
    const flow = { ...NO_FLOW_EFFECTS, session: session(input, null, 'web', undefined, firstWords) };
    return derive(
      input,
      flow,
      ADS_TEXTS.webNoMatch,
      `Ingreso Web - Curso no identificado: "${name}"`,
      'web_sin_curso',
      null,
    );
  }
  const flow: FlowEffects = { ...NO_FLOW_EFFECTS, session: session(input, course.id, 'web', undefined, firstWords) };
  if (!course.active)
    return derive(
      input,
      flow,
      ADS_TEXTS.webInactive(course.name),
      `Ingreso Web - Curso INACTIVO: ${course.code}`,
      `curso_${course.id}`,
      course,
    );
  if (course.options.length === 0)
    return derive(
      input,
      flow,
      ADS_TEXTS.webNoMenu(course.name),
      `Ingreso Web - Curso: ${course.code} (sin menú)`,
      `curso_${course.id}`,
      course,
    );
  const reason = `Ingreso Web - Curso: ${course.code}`;
  return menuOf(input, course, { greeting: true, welcome: true }, 'web_lead', {
    ...flow,
    pin: { reason, systemLine: `🤖 ${reason}`, byAd: false },
  });
}

/** A course without options: its texts, then an agent. */
function handOff(
  input: AdsInput,
  course: AdCourse,
  flow: FlowEffects,
  reply: string,
  note: string,
  byAd: boolean,
): Decision {
  const reason = `${byAd ? 'Ingreso CTWA' : 'Entrada directa'} - Curso: ${course.code} (${note})`;
  return derive(input, { ...flow, pin: null }, reply, reason, `curso_${course.id}`, course);
}

function list(input: AdsInput, kind: string, page: number): Decision {
  const courses = directCourses(input.ads.courses.values(), kind);
  const flow = { ...NO_FLOW_EFFECTS, session: { ...session(input, null, 'directo'), interaction: true } };
  if (courses.length === 0) {
    const reply = kind === 'curso' ? ADS_TEXTS.noCourses : ADS_TEXTS.noSpecialisations;
    return derive(input, flow, reply, `Entrada directa - Sin ${kind}s`, `tipo_${kind}`, null);
  }
  const rendered = courseList(courses, kind, page);
  return {
    ...nothing('ads_list'),
    state: stepState(input, STEP.list, { course: null, kind, page: rendered.page }),
    replies: [rendered],
    warnings: rendered.warnings,
    flow,
  };
}

function buttons(input: AdsInput, outcome: 'ads_buttons' | 'ad_unknown' | 'stale_tap'): Decision {
  const flow =
    outcome === 'stale_tap' ? NO_FLOW_EFFECTS : { ...NO_FLOW_EFFECTS, session: session(input, null, 'directo') };
  return {
    ...nothing(outcome),
    state: stepState(input, STEP.buttons, { course: null, kind: null, page: 1 }),
    replies: [directButtons()],
    flow,
  };
}

/** A tap that does not belong to what the lead was shown last: the current menu again, nothing executed. */
function stale(input: AdsInput): Decision {
  const { conversation: conv, ads } = input;
  const pos = position(conv);
  const course = pos.course ? ads.courses.get(pos.course) : undefined;
  if (conv.router_estado === STEP.menu && course && course.options.length > 0)
    return menuOf(input, course, { greeting: false, welcome: false }, 'stale_tap', NO_FLOW_EFFECTS);
  if (conv.router_estado === STEP.list && pos.kind) {
    const courses = directCourses(ads.courses.values(), pos.kind);
    if (courses.length > 0) {
      const rendered = courseList(courses, pos.kind, pos.page);
      return { ...nothing('stale_tap'), replies: [rendered], warnings: rendered.warnings };
    }
  }
  return buttons(input, 'stale_tap');
}

function menuOf(
  input: AdsInput,
  course: AdCourse,
  opts: { greeting: boolean; welcome: boolean },
  outcome: Decision['outcome'],
  flow: FlowEffects,
  page = 1,
): Decision {
  const replies = courseMenu(course, opts, page);
  return {
    ...nothing(outcome),
    state: menuState(input, course, optionPage(course, page).page, flow.session?.origen),
    replies,
    warnings: replies.flatMap((r) => r.warnings),
    flow,
  };
}

function menuState(input: AdsInput, course: AdCourse, page = 1, origen?: string): Decision['state'] {
  return stepState(input, STEP.menu, { course: course.id, kind: null, page }, origen);
}

function stepState(input: AdsInput, step: string, pos: AdsPosition, origen?: string): Decision['state'] {
  const previous = position(input.conversation);
  return {
    estado: 'activa',
    router_estado: step,
    menu_actual: null,
    metadata: { ads: { curso: pos.course, tipo: pos.kind, pagina: pos.page, origen: origen ?? previous.origen } },
  };
}

/**
 * A hand-off to the sales inbox: a ticket, a `derivaciones` row with `menu_option_selected` (so the
 * statistics count ad hand-offs, §D11), the 🤖 line, and the pin — one transaction.
 */
function derive(
  input: AdsInput,
  flow: FlowEffects,
  reply: string,
  reason: string,
  optionSelected: string,
  course: AdCourse | null,
): Decision {
  const area = salesArea(input);
  const byAd = flow.adEntry !== null || position(input.conversation).origen === 'ctwa';
  return {
    outcome: 'derived',
    state: { estado: 'derivada', router_estado: DERIVED, menu_actual: null, area: area.id },
    replies: [text(reply)],
    derivation: {
      area,
      fromArea: input.conversation.area,
      subLabel: course?.code ?? null,
      reason,
      optionSelected,
      course: course ? { id: course.id, code: course.code, name: course.name } : null,
    },
    notify: { area, event: 'derivation' },
    warnings: [],
    // The lead is handed to an agent: its session is `derivado` (§D7), whatever led here.
    flow: {
      ...flow,
      session: flow.session ? { ...flow.session, estado: 'derivado' } : null,
      pin: { reason, systemLine: null, byAd },
    },
    derivationLine: `🤖 ${reason}`,
  };
}

function forward(input: AdsInput): Decision {
  return { ...nothing('forwarded'), notify: { area: salesArea(input), event: 'message' } };
}

function salesArea(input: AdsInput): Area {
  return input.catalog.areas.get(SALES_AREA) ?? { id: SALES_AREA, name: 'Ventas API', inboxUrl: null };
}

function session(
  input: AdsInput,
  courseId: string | null,
  origen: SessionEffect['origen'],
  attribution?: {
    adConfigId: string | null;
    adId: string | null;
    ctwaClid: string | null;
    referral: Record<string, unknown>;
  },
  firstMessage: string | null = input.message.text,
): SessionEffect {
  return {
    courseId,
    origen,
    adConfigId: attribution?.adConfigId ?? null,
    adId: attribution?.adId ?? null,
    ctwaClid: attribution?.ctwaClid ?? null,
    referral: attribution?.referral ?? null,
    firstMessage,
    estado: 'activo',
    interaction: false,
  };
}

/** Pinned to an inbox by the CRM or by an earlier entry: free text is the agents'. */
function isPinned(conv: ConversationState): boolean {
  return (
    (conv.inbox_fijo ?? '').trim() !== '' && conv.router_estado !== STEP.buttons && conv.router_estado !== STEP.list
  );
}

function position(conv: ConversationState): AdsPosition & { origen: SessionEffect['origen'] | null } {
  const raw = conv.metadata?.['ads'];
  const a = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return {
    course: typeof a['curso'] === 'string' ? a['curso'] : null,
    kind: typeof a['tipo'] === 'string' ? a['tipo'] : null,
    page: typeof a['pagina'] === 'number' ? a['pagina'] : 1,
    origen: originOf(a['origen']),
  };
}

function originOf(v: unknown): SessionEffect['origen'] | null {
  return v === 'ctwa' || v === 'web' || v === 'directo' ? v : null;
}

function nothing(outcome: Decision['outcome']): Decision {
  return { outcome, state: null, replies: [], derivation: null, notify: null, warnings: [] };
}
