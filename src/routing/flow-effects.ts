/**
 * What the ads funnel and the autoreplies leave behind for the CRM's statistics pages
 * (FLOWS.md §C), decided with the reply and committed with it (store/flow-writes.ts): one session
 * per (lead, course), one tap row per executed tap, the ad's execution count, the pin to the sales
 * inbox, and the autoreply log row.
 */
export interface SessionEffect {
  courseId: string | null;
  origen: 'ctwa' | 'web' | 'directo';
  adConfigId: string | null;
  adId: string | null;
  ctwaClid: string | null;
  /** The whole referral (source URL, headline…), for a Conversions API report. */
  referral: Record<string, unknown> | null;
  /** The lead's first words, kept on a new row only. */
  firstMessage: string | null;
  /** 'activo' (re)opens the row; 'derivado' once the lead is handed to an agent. */
  estado: 'activo' | 'derivado';
  /** Count one interaction (a tap or a list shown). */
  interaction: boolean;
}

export interface TapEffect {
  courseId: string;
  courseCode: string;
  courseName: string;
  optionId: string;
  optionTitle: string;
  optionType: string;
  adConfigId: string | null;
  adId: string | null;
  ctwaClid: string | null;
  answered: boolean;
  derived: boolean;
}

export interface FlowEffects {
  session: SessionEffect | null;
  tap: TapEffect | null;
  /** An ad entry of a configured ad: `ejecuciones + 1` (config_cursos_ctwa and the legacy table). */
  adEntry: { configId: string; adId: string; name: string | null } | null;
  /** Pin to the sales inbox (inbox_fijo, linea_origen, area) with this 🤖 line (null: no line, the
   * derivation writes its own). */
  pin: { reason: string; systemLine: string | null; byAd: boolean } | null;
  /** The conversation was closed by an agent: its open sessions end (`finalizado`). */
  finishSessions: boolean;
}

export const NO_FLOW_EFFECTS: FlowEffects = {
  session: null,
  tap: null,
  adEntry: null,
  pin: null,
  finishSessions: false,
};
