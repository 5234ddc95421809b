import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { CatalogRows } from '../store/catalog-repository.js';
import { DEFAULT_LINE_SETTINGS, type Catalog, type Line, type RoutingSettings, type RoutingTexts } from './types.js';
import { normaliseCommand } from './normalise-command.js';

/** `router_textos.clave` for each text the engine sends. */
const TEXT_KEYS: Record<keyof RoutingTexts, string> = {
  derivationConfirmation: 'derivacion_confirmacion',
  alreadyDerived: 'ya_derivado',
  inboxLineNote: 'nota_linea_inbox',
  coursesHeader: 'cursos_header',
  coursesBody: 'cursos_body',
  coursesButton: 'cursos_boton',
  coursesNext: 'cursos_siguiente',
  coursesPrevious: 'cursos_anterior',
  back: 'volver',
  noCourses: 'sin_cursos',
};

export function settingsFromConfig(config: Config): RoutingSettings {
  return {
    mainMenuId: config.MAIN_MENU_ID,
    defaultLine: config.DEFAULT_LINE,
    globalCommands: config.GLOBAL_COMMANDS.map(normaliseCommand),
    reentryMs: config.REENTRY_HOURS * 3_600_000,
    antiLoopMs: config.ANTI_LOOP_MINUTES * 60_000,
    inboxNoteCooldownMs: config.INBOX_NOTE_COOLDOWN_HOURS * 3_600_000,
    ticketTimeZone: config.TICKET_TIME_ZONE,
    replyRepeatMs: config.REPLY_REPEAT_SECONDS * 1_000,
    floodMessages: config.REPLY_FLOOD_MESSAGES,
    floodWindowMs: config.REPLY_FLOOD_SECONDS * 1_000,
  };
}

/** Builds the engine's catalog from the rows; a text missing in the database is reported, not invented. */
export function buildCatalog(rows: CatalogRows, settings: RoutingSettings, log: Logger): Catalog {
  const texts = {} as RoutingTexts;
  for (const [field, key] of Object.entries(TEXT_KEYS) as [keyof RoutingTexts, string][]) {
    const value = rows.texts[key];
    if (value === undefined) log.warn({ key }, 'router_textos is missing a text; using its key until it is added');
    texts[field] = value ?? key;
  }
  return {
    ...(rows.flows ? { ads: rows.flows.ads, autoreplies: rows.flows.autoreplies } : {}),
    menus: new Map(rows.menus.map((m) => [m.id, m])),
    courses: rows.courses,
    areas: new Map(rows.areas.map((a) => [a.id, a])),
    lines: new Map(rows.lines.map((l) => [l.code, withDefaults(l)])),
    texts,
    settings,
  };
}

/** Settings missing from `ajustes` take the business's defaults (unknown keys are ignored). */
function withDefaults(line: Line): Line {
  const given = (line.settings ?? {}) as Partial<Line['settings']>;
  const settings = { ...DEFAULT_LINE_SETTINGS };
  for (const key of Object.keys(DEFAULT_LINE_SETTINGS) as (keyof Line['settings'])[]) {
    if (typeof given[key] === 'boolean') settings[key] = given[key];
  }
  return { ...line, settings };
}

/** The line a message arrived on: configured by code, else the default line on the main menu. */
export function lineFor(catalog: Catalog, code: string): Line {
  return (
    catalog.lines.get(code) ?? {
      code,
      name: code,
      kind: 'cloud',
      phoneNumberId: null,
      // An unconfigured number next to configured lines is stored, never answered.
      flow: code === catalog.settings.defaultLine ? 'menu' : 'inbox',
      settings:
        code === catalog.settings.defaultLine ? DEFAULT_LINE_SETTINGS : { ...DEFAULT_LINE_SETTINGS, inboxNote: false },
    }
  );
}

/**
 * Menus, areas, lines and texts change rarely and are read on every message: keep them in memory
 * for `ttlMs`; the first read after expiry reloads (one query, shared by concurrent readers). A
 * failed reload keeps serving the last good catalog (the database hiccup is reported elsewhere).
 */
export class CatalogCache {
  private current: { catalog: Catalog; at: number } | null = null;
  private loading: Promise<Catalog> | null = null;

  constructor(
    private readonly load: () => Promise<CatalogRows>,
    private readonly settings: RoutingSettings,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {}

  async get(): Promise<Catalog> {
    if (this.current && Date.now() - this.current.at < this.ttlMs) return this.current.catalog;
    if (!this.loading) {
      this.loading = this.load()
        .then((rows) => {
          const catalog = buildCatalog(rows, this.settings, this.log);
          this.current = { catalog, at: Date.now() };
          return catalog;
        })
        .finally(() => {
          this.loading = null;
        });
    }
    try {
      return await this.loading;
    } catch (err) {
      if (!this.current) throw err;
      this.log.warn({ err: { message: (err as Error).message } }, 'catalog reload failed; serving the previous one');
      return this.current.catalog;
    }
  }

  /** Forces the next read to reload (admin edits, tests). */
  invalidate(): void {
    this.current = null;
  }
}
