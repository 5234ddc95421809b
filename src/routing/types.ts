/**
 * Shared vocabulary of the routing engine: the catalog it reads (menus, courses, areas, lines,
 * texts, settings — data edited in the CRM or config) and the messages it sends. Pure data, no I/O.
 */
import type { AdsCatalog } from './ads/ads-types.js';
import type { AutoreplyConfig } from './autoreply/decide-autoreply.js';

export type ActionType = 'derivar' | 'submenu' | 'volver' | 'cursos_dinamico';

/** A row of `router_menu_opciones`. */
export interface MenuOption {
  /** `opcion_id`: the id put in list rows / reply buttons, matched on taps, and what
   * derivaciones.menu_option_selected records for the CRM's statistics (ES:379-383). */
  optionId: string;
  order: number;
  emoji: string | null;
  title: string;
  description: string | null;
  action: ActionType;
  /** The submenu's `tipo_menu`, resolved from `submenu_id` (the config row's uuid). */
  submenuId: string | null;
  area: string | null;
  subLabel: string | null;
  contextMessage: string | null;
}

/** A row of `router_menu_config` with its active options sorted by `orden`. */
export interface Menu {
  /** `tipo_menu`: how the CRM and the router name a menu ('principal', 'alumnos', …). */
  id: string;
  name: string;
  header: string | null;
  body: string;
  footer: string | null;
  buttonText: string | null;
  /** list = interactive list; buttons = reply buttons (≤3, else sent as a list); text = numbered text. */
  kind: 'list' | 'buttons' | 'text';
  parentMenuId: string | null;
  options: MenuOption[];
}

export interface Course {
  /** `cursos.id`: list rows are `curso_{id}` and derivations record `curso_{id}` (contract §7). */
  id: string;
  code: string;
  name: string;
}

/** A human area (inbox) the router hands conversations to. */
export interface Area {
  id: string;
  name: string;
  /** n8n (or any) webhook that receives derivations and the messages of derived conversations. */
  inboxUrl: string | null;
}

export type LineFlow = 'menu' | 'ads' | 'inbox';
export type LineKind = 'cloud' | 'evolution';

/**
 * Per-line behaviour switches (`router_lineas.ajustes`). Each default is what the business runs
 * today (CRM-CONTRACT §12), except where the README's cut-over guide says it differs on purpose.
 */
export interface LineSettings {
  /** Global commands (MENU, 0…) also pull a derived conversation back to the menu. Default off:
   * a derived conversation belongs to the agent. */
  commandsWhenDerived: boolean;
  /** A derived conversation whose customer comes back after the re-entry period gets the menu. */
  reentryAfterWindow: boolean;
  /** The CRM's "Desconectar del Router" flags (desconectado_wsp4, desconectado_ventas_api,
   * inbox_fijo) silence the router: store and forward only. */
  honourDisconnect: boolean;
  /** A conversation an agent closed (estado 'cerrada') starts over at the main menu. Default on
   * (today the contact stays silenced). */
  closedRestartsMenu: boolean;
  /** Keep the router's own replies as `saliente`/`bot` rows so agents see what the customer was
   * shown. Off = today's behaviour (nothing but the 🤖 lines). */
  storeBotReplies: boolean;
  /** Inbox lines: send the "write to our main number" note to an unknown contact (once per cooldown). */
  inboxNote: boolean;
}

export const DEFAULT_LINE_SETTINGS: LineSettings = {
  commandsWhenDerived: false,
  reentryAfterWindow: true,
  honourDisconnect: true,
  closedRestartsMenu: true,
  storeBotReplies: true,
  inboxNote: true,
};

export interface Line {
  /** The CRM's line code (conversaciones.linea_origen): wsp4, ventas_api, … */
  code: string;
  name: string;
  kind: LineKind;
  /** Cloud API number id; null for a line that does not use the Cloud API. */
  phoneNumberId: string | null;
  flow: LineFlow;
  settings: LineSettings;
}

/**
 * Texts sent to customers. Placeholders: {area} (area name), {ticket} (ticket id), {page}, {pages}.
 * `{ticket}` is filled in by the database, in the same statement that creates the ticket.
 */
export interface RoutingTexts {
  derivationConfirmation: string;
  alreadyDerived: string;
  inboxLineNote: string;
  coursesHeader: string;
  coursesBody: string;
  coursesButton: string;
  coursesNext: string;
  coursesPrevious: string;
  back: string;
  noCourses: string;
}

export interface RoutingSettings {
  /** `tipo_menu` of the main menu. */
  mainMenuId: string;
  /** The line every number is when router_lineas has no Cloud line (the embedded default). */
  defaultLine: string;
  /** Normalised (upper case, no accents, trimmed) global commands that always go to the main menu. */
  globalCommands: string[];
  /** Silence (customer and agent) after which a derived conversation starts over at the menu. */
  reentryMs: number;
  /** A repeated derivation to the same area within this time creates no new ticket. */
  antiLoopMs: number;
  /** Inbox lines: at most one "write to our main number" note per contact per this period. */
  inboxNoteCooldownMs: number;
  /** IANA time zone for the date in ticket ids. */
  ticketTimeZone: string;
  /** A reply identical to the last one sent less than this before is not sent again (0 = off). */
  replyRepeatMs: number;
  /** This many customer messages within floodWindowMs silence the router (0 = off). */
  floodMessages: number;
  floodWindowMs: number;
}

export interface Catalog {
  /** The ads funnel's catalog (absent: no ads line can run its funnel). */
  ads?: AdsCatalog;
  /** Autoreply settings by line code. */
  autoreplies?: ReadonlyMap<string, AutoreplyConfig>;
  menus: ReadonlyMap<string, Menu>;
  courses: readonly Course[];
  areas: ReadonlyMap<string, Area>;
  /** By CRM code. */
  lines: ReadonlyMap<string, Line>;
  texts: RoutingTexts;
  settings: RoutingSettings;
}

/** Meta's limits for interactive messages (Cloud API reference, messages → interactive object). */
export const META_LIMITS = {
  listRowsTotal: 10,
  listSections: 10,
  rowTitle: 24,
  rowDescription: 72,
  rowId: 200,
  sectionTitle: 24,
  listButton: 20,
  replyButtons: 3,
  replyButtonTitle: 20,
  replyButtonId: 256,
  headerText: 60,
  body: 1024,
  footer: 60,
  textBody: 4096,
} as const;

export interface ListRow {
  id: string;
  title: string;
  description?: string;
}

/** What the router sends; turned into a Graph API body by outbound/message-builders.ts. */
export type OutboundContent =
  | { kind: 'text'; body: string }
  | {
      kind: 'list';
      header?: string;
      body: string;
      footer?: string;
      button: string;
      sections: { title?: string; rows: ListRow[] }[];
    }
  | { kind: 'buttons'; header?: string; body: string; footer?: string; buttons: { id: string; title: string }[] };

/** A rendered message plus the text stored in `mensajes.mensaje` and any limit warnings. */
export interface RenderedMessage {
  content: OutboundContent;
  /** Human-readable version stored on the `saliente` row for the CRM. */
  preview: string;
  warnings: string[];
}
