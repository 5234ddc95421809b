/**
 * The ads number's catalog (CRM-CONTRACT §8), as the CRM's Automatizaciones pages edit it: courses
 * (`cursos`), their funnel options (`menu_opciones`), the ad → course map (`config_cursos_ctwa`) and
 * the cohort names web leads are matched against (`cursos_cohortes`). Pure data, no I/O.
 */

export type AdOptionType = 'info' | 'derivar' | 'inscribir';

/** A row of `menu_opciones`: one entry of a course's funnel list. */
export interface AdOption {
  /** `menu_opciones.id` (uuid): the list row id, tapped back, and `menu_interacciones.opcion_id`. */
  id: string;
  courseId: string;
  order: number;
  emoji: string | null;
  title: string;
  subtitle: string | null;
  type: AdOptionType;
  /** Name of the `cursos` column an info option answers with (`info_precio`…). */
  infoField: string | null;
  customReply: string | null;
  showMenuAfter: boolean;
  derivationMessage: string | null;
}

/** A row of `cursos` with what the funnel reads; `fields` is the whole row (for `campo_info`). */
export interface AdCourse {
  id: string;
  code: string;
  name: string;
  /** `psi_nombre`, the name the website uses, when the CRM has it. */
  webName: string | null;
  active: boolean;
  directEntry: boolean;
  /** `tipo_formacion`: curso | especializacion. */
  kind: string | null;
  category: string | null;
  description: string | null;
  greeting: string | null;
  welcome: string | null;
  menuBody: string | null;
  fields: Record<string, unknown>;
  /** Active options, by `orden`. */
  options: AdOption[];
}

/** An active row of `config_cursos_ctwa`. */
export interface AdConfig {
  id: string;
  adId: string;
  courseId: string;
  name: string | null;
}

/** A row of `cursos_cohortes` (name as the school's platform writes it: "Curso X - Marzo 2026"). */
export interface Cohort {
  code: string;
  name: string;
  year: number;
  month: number;
}

export interface AdsCatalog {
  /** Every course, active or not (a web lead may name an inactive one). */
  courses: ReadonlyMap<string, AdCourse>;
  /** Active ads by `ad_id`. */
  ads: ReadonlyMap<string, AdConfig>;
  cohorts: readonly Cohort[];
}

export const EMPTY_ADS_CATALOG: AdsCatalog = { courses: new Map(), ads: new Map(), cohorts: [] };

/** A row of `menu_sesiones` of this lead (by `+` phone). */
export interface LeadSession {
  id: string;
  courseId: string | null;
  estado: string | null;
  origen: string | null;
  adConfigId: string | null;
  adId: string | null;
  ctwaClid: string | null;
}

/**
 * Where the lead is in the funnel, kept in `conversaciones.metadata.ads` (router_estado says which
 * step: ads_botones, ads_cursos, ads_menu). Stale taps are judged against it.
 */
export interface AdsPosition {
  /** Course whose option list was last shown. */
  course: string | null;
  /** Course list shown (direct entry): its formation type and 1-based page. */
  kind: string | null;
  page: number;
}
