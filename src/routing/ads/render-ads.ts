/**
 * The ads funnel's messages (FLOWS.md §A2, §A4), within Meta's limits: a course's option list (with
 * its greeting and welcome texts), the three direct-entry buttons, and the paginated course lists.
 * Pure: no I/O. Row ids are the ones the old automations service sent, so taps on lists sent before
 * the cut-over still resolve.
 */
import { fitText, nonBlank } from '../limit-text.js';
import { META_LIMITS, type ListRow, type RenderedMessage } from '../types.js';
import type { AdCourse, AdOption } from './ads-types.js';
import { ADS_TEXTS } from './ads-texts.js';

export const DIRECT_IDS = {
  courses: 'tipo_curso',
  specialisations: 'tipo_especializacion',
  agent: 'hablar_agente',
} as const;

const ROWS = META_LIMITS.listRowsTotal;
/** Per page when a list needs more than one: room for the "more" and "previous" rows. */
const PER_PAGE = ROWS - 2;

export function text(body: string): RenderedMessage {
  const warnings: string[] = [];
  const fitted = fitText(body, META_LIMITS.textBody, 'text', warnings);
  return { content: { kind: 'text', body: fitted }, preview: fitted, warnings };
}

/** The greeting and welcome texts (each only when the course has it), then the option list. */
export function courseMenu(
  course: AdCourse,
  opts: { greeting: boolean; welcome: boolean },
  page = 1,
): RenderedMessage[] {
  const out: RenderedMessage[] = [];
  const greeting = nonBlank(course.greeting);
  const welcome = nonBlank(course.welcome);
  if (opts.greeting && greeting) out.push(text(greeting));
  if (opts.welcome && welcome) out.push(text(welcome));
  out.push(optionList(course, page));
  return out;
}

/** Option ids of a course's list page `page` (1-based): what a tap on that page may carry. */
export function optionPage(course: AdCourse, page: number): { options: AdOption[]; page: number; pages: number } {
  const all = course.options;
  if (all.length <= ROWS) return { options: all, page: 1, pages: 1 };
  const pages = Math.ceil(all.length / PER_PAGE);
  const current = Math.min(Math.max(1, Math.trunc(page) || 1), pages);
  return { options: all.slice((current - 1) * PER_PAGE, current * PER_PAGE), page: current, pages };
}

export const optionPageId = (courseId: string, page: number) => `opciones_${courseId}_p${page}`;
export function parseOptionPageId(id: string): { courseId: string; page: number } | null {
  const m = /^opciones_(.+)_p(\d+)$/.exec(id);
  return m ? { courseId: m[1]!, page: Number(m[2]) } : null;
}

function optionList(course: AdCourse, page: number): RenderedMessage {
  const warnings: string[] = [];
  const { options, page: current, pages } = optionPage(course, page);
  const row = (o: AdOption): ListRow => {
    const description = nonBlank(o.subtitle);
    return {
      id: o.id,
      title: fitText(`${o.emoji ?? ''} ${o.title}`.trim(), META_LIMITS.rowTitle, `option ${o.id} title`, warnings),
      ...(description
        ? { description: fitText(description, META_LIMITS.rowDescription, `option ${o.id} subtitle`, warnings) }
        : {}),
    };
  };
  const info = options.filter((o) => o.type === 'info').map(row);
  const contact = options.filter((o) => o.type !== 'info').map(row);
  const nav: ListRow[] = [];
  if (current < pages)
    nav.push({
      id: optionPageId(course.id, current + 1),
      title: ADS_TEXTS.more,
      description: pageOf(current + 1, pages),
    });
  if (current > 1)
    nav.push({
      id: optionPageId(course.id, current - 1),
      title: ADS_TEXTS.previous,
      description: pageOf(current - 1, pages),
    });
  const sections = [
    ...(info.length ? [{ title: ADS_TEXTS.infoSection, rows: info }] : []),
    ...(contact.length ? [{ title: ADS_TEXTS.contactSection, rows: contact }] : []),
    ...(nav.length ? [{ title: ADS_TEXTS.moreSection, rows: nav }] : []),
  ];
  const header = fitText(`🎓 ${course.name}`, META_LIMITS.headerText, 'course list header', warnings);
  const body = fitText(nonBlank(course.menuBody) ?? ADS_TEXTS.menuBody, META_LIMITS.body, 'course list body', warnings);
  return {
    content: { kind: 'list', header, body, footer: ADS_TEXTS.footer, button: ADS_TEXTS.button, sections },
    preview: previewOf(header, body, sections),
    warnings,
  };
}

export function directButtons(): RenderedMessage {
  const buttons = [
    { id: DIRECT_IDS.courses, title: ADS_TEXTS.buttonCourses },
    { id: DIRECT_IDS.specialisations, title: ADS_TEXTS.buttonSpecialisations },
    { id: DIRECT_IDS.agent, title: ADS_TEXTS.buttonAgent },
  ];
  return {
    content: {
      kind: 'buttons',
      header: ADS_TEXTS.buttonsHeader,
      body: ADS_TEXTS.buttonsBody,
      footer: ADS_TEXTS.footer,
      buttons,
    },
    preview: `${ADS_TEXTS.buttonsBody}\n${buttons.map((b, i) => `${i + 1}. ${b.title}`).join('\n')}`,
    warnings: [],
  };
}

export const navId = (kind: string, dir: 'mas' | 'anterior', page: number) => `nav_${dir}_${kind}_p${page}`;
export function parseNavId(id: string): { kind: string; page: number } | null {
  const m = /^nav_(?:mas|anterior)_(curso|especializacion)_p(\d+)$/.exec(id);
  return m ? { kind: m[1]!, page: Number(m[2]) } : null;
}

/** Courses offered on direct entry for a formation type, by category then name. */
export function directCourses(courses: Iterable<AdCourse>, kind: string): AdCourse[] {
  return [...courses]
    .filter((c) => c.active && c.directEntry && c.kind === kind)
    .sort((a, b) => (a.category ?? '').localeCompare(b.category ?? '') || a.name.localeCompare(b.name));
}

/** The list of `kind` courses: by category when ≤10, else 8 per page with more/previous rows. */
export function courseList(courses: AdCourse[], kind: string, page: number): RenderedMessage & { page: number } {
  const warnings: string[] = [];
  const isCourse = kind === 'curso';
  const row = (c: AdCourse): ListRow => {
    const description = nonBlank(c.description);
    return {
      id: `curso_${c.id}`,
      title: fitText(c.name, META_LIMITS.rowTitle, `course ${c.code} name`, warnings),
      ...(description
        ? { description: fitText(description, META_LIMITS.rowDescription, 'course description', warnings) }
        : {}),
    };
  };
  const header = isCourse ? ADS_TEXTS.coursesHeader : ADS_TEXTS.specialisationsHeader;
  let sections: { title: string; rows: ListRow[] }[];
  let body: string;
  let current = 1;
  const byCategory = new Map<string, AdCourse[]>();
  for (const c of courses) byCategory.set(c.category ?? 'Otros', [...(byCategory.get(c.category ?? 'Otros') ?? []), c]);
  if (courses.length <= ROWS && byCategory.size <= META_LIMITS.listSections) {
    body = isCourse ? ADS_TEXTS.pickCourse : ADS_TEXTS.pickSpecialisation;
    sections = [...byCategory].map(([cat, cs]) => ({
      title: fitText(cat, META_LIMITS.sectionTitle, 'category', warnings),
      rows: cs.map(row),
    }));
  } else {
    const pages = Math.ceil(courses.length / PER_PAGE);
    current = Math.min(Math.max(1, Math.trunc(page) || 1), pages);
    const rows = courses.slice((current - 1) * PER_PAGE, current * PER_PAGE).map(row);
    if (current < pages)
      rows.push({
        id: navId(kind, 'mas', current + 1),
        title: ADS_TEXTS.more,
        description: pageOf(current + 1, pages),
      });
    if (current > 1)
      rows.push({
        id: navId(kind, 'anterior', current - 1),
        title: ADS_TEXTS.previous,
        description: pageOf(current - 1, pages),
      });
    body = `${isCourse ? ADS_TEXTS.pickCourse : ADS_TEXTS.pickSpecialisation} (${current}/${pages})`;
    sections = [
      { title: fitText(`${header} (${current}/${pages})`, META_LIMITS.sectionTitle, 'section', warnings), rows },
    ];
  }
  return {
    content: { kind: 'list', header, body, footer: ADS_TEXTS.footer, button: ADS_TEXTS.button, sections },
    preview: previewOf(header, body, sections),
    warnings,
    page: current,
  };
}

const pageOf = (page: number, pages: number) => `Página ${page} de ${pages}`;

function previewOf(header: string, body: string, sections: { rows: ListRow[] }[]): string {
  const rows = sections.flatMap((s) => s.rows);
  return `${header}\n${body}\n${rows.map((r, i) => `${i + 1}. ${r.title}`).join('\n')}`;
}
