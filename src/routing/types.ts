/**
 * Shared vocabulary of the routing engine: the catalog it reads (menus, courses, areas, lines,
 * texts, settings — data edited in the CRM or config) and the messages it sends. Pure data, no I/O.
 */

export type ActionType = 'derivar' | 'submenu' | 'volver' | 'cursos_dinamico';

/** A row of `router_menu_opciones`. */
export interface MenuOption {
  /** `opcion_id`: the id put in list rows / reply buttons and matched on taps. */
  optionId: string;
  order: number;
  emoji: string | null;
  title: string;
  description: string | null;
  action: ActionType;
  submenuId: string | null;
  area: string | null;
  subLabel: string | null;
  contextMessage: string | null;
}

/** A row of `router_menu_config` with its active options sorted by `orden`. */
export interface Menu {
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

export type LineMode = 'menu' | 'inbox';

export interface Line {
  phoneNumberId: string;
  name: string;
  mode: LineMode;
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
  mainMenuId: string;
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
}

export interface Catalog {
  menus: ReadonlyMap<string, Menu>;
  courses: readonly Course[];
  areas: ReadonlyMap<string, Area>;
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
