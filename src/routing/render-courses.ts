/**
 * The dynamic course list, paginated so that every page — courses plus navigation rows — fits in
 * Meta's 10 list rows. Pure: no I/O. Page numbers are 0-based in code and row ids, 1-based in texts.
 *
 * Navigation rows: "next" when more courses follow, "previous" when page > 0, "back" always. So a
 * single page holds 9 courses, the first of several 8, a middle one 7 and the last one up to 8.
 */

import { fitText, nonBlank } from './limit-text.js';
import { META_LIMITS } from './types.js';
import type { Course, ListRow, RenderedMessage, RoutingTexts } from './types.js';

// Row ids as the old router sent them (contract §7), so taps on lists sent before the cut-over work.
const COURSE_PREFIX = 'curso_';
const PAGE_PREFIX = 'ver_mas_cursos_p';
const BACK_ID = 'volver';

const ROWS = META_LIMITS.listRowsTotal;
const SINGLE_PAGE = ROWS - 1; // back
const FIRST_PAGE = ROWS - 2; // next + back
const MIDDLE_PAGE = ROWS - 3; // previous + next + back
const LAST_PAGE = ROWS - 2; // previous + back

// Used only when the configured texts are blank: Meta rejects empty titles and buttons.
const FALLBACK = { button: 'Ver opciones', next: 'Siguiente', previous: 'Anterior', back: 'Volver' } as const;

export type CourseRowId = { kind: 'course'; id: string } | { kind: 'page'; page: number } | { kind: 'back' };

/** Number of list pages for `total` courses (0 when there are none: a text is sent instead). */
export function coursePageCount(total: number): number {
  if (total <= 0) return 0;
  if (total <= SINGLE_PAGE) return 1;
  // First page, then middle pages while more than a last page's worth remains, then the last page.
  return 2 + Math.ceil(Math.max(0, total - FIRST_PAGE - LAST_PAGE) / MIDDLE_PAGE);
}

/** Index of the first course on `page` and how many courses it shows. */
function pageSlice(page: number, pages: number, total: number): { start: number; count: number } {
  if (pages === 1) return { start: 0, count: total };
  const start = page === 0 ? 0 : FIRST_PAGE + (page - 1) * MIDDLE_PAGE;
  if (page === pages - 1) return { start, count: total - start };
  return { start, count: page === 0 ? FIRST_PAGE : MIDDLE_PAGE };
}

export function renderCoursePage(
  courses: readonly Course[],
  page: number,
  texts: RoutingTexts,
): RenderedMessage & { page: number; pages: number } {
  const warnings: string[] = [];
  const usable = sendableCourses(courses, warnings);
  const pages = coursePageCount(usable.length);
  if (pages === 0) {
    const body = fitText(texts.noCourses, META_LIMITS.textBody, 'courses: no-courses text', warnings);
    return { content: { kind: 'text', body }, preview: body, warnings, page: 0, pages: 0 };
  }

  // A stale or forged page number (courses removed since the list was sent) lands on a real page.
  const current = Math.min(Math.max(Number.isFinite(page) ? Math.trunc(page) : 0, 0), pages - 1);
  const { start, count } = pageSlice(current, pages, usable.length);
  const rows: ListRow[] = usable.slice(start, start + count).map((c) => courseRow(c, warnings));
  if (current < pages - 1)
    rows.push(navRow(`${PAGE_PREFIX}${current + 1}`, texts.coursesNext, FALLBACK.next, warnings));
  if (current > 0)
    rows.push(navRow(`${PAGE_PREFIX}${current - 1}`, texts.coursesPrevious, FALLBACK.previous, warnings));
  rows.push(navRow(BACK_ID, texts.back, FALLBACK.back, warnings));

  const header = nonBlank(texts.coursesHeader);
  const body = fitText(
    nonBlank(texts.coursesBody.replaceAll('{page}', String(current + 1)).replaceAll('{pages}', String(pages))) ??
      `${current + 1}/${pages}`,
    META_LIMITS.body,
    'courses: body',
    warnings,
  );
  return {
    content: {
      kind: 'list',
      ...(header !== null ? { header: fitText(header, META_LIMITS.headerText, 'courses: header', warnings) } : {}),
      body,
      button: fitText(
        nonBlank(texts.coursesButton) ?? FALLBACK.button,
        META_LIMITS.listButton,
        'courses: button',
        warnings,
      ),
      sections: [{ rows }],
    },
    preview: [body, '', ...rows.map((r, index) => `${index + 1}. ${r.title}`)].join('\n'),
    warnings,
    page: current,
    pages,
  };
}

/** Reads back a row id this module produced; null for anything else (e.g. a menu option id). */
export function parseCourseRowId(id: string): CourseRowId | null {
  if (id === BACK_ID) return { kind: 'back' };
  if (id.startsWith(COURSE_PREFIX)) {
    const courseId = id.slice(COURSE_PREFIX.length);
    return courseId === '' ? null : { kind: 'course', id: courseId };
  }
  if (id.startsWith(PAGE_PREFIX)) {
    const digits = id.slice(PAGE_PREFIX.length);
    const page = Number(digits);
    return /^\d+$/.test(digits) && Number.isSafeInteger(page) ? { kind: 'page', page } : null;
  }
  return null;
}

/**
 * Courses that can be rows: the id is what a tap sends back, so a blank or over-long code cannot be
 * sent and a repeated code would be ambiguous (first kept). Done before paginating so pages stay full.
 */
function sendableCourses(courses: readonly Course[], warnings: string[]): Course[] {
  const seen = new Set<string>();
  return courses.filter((c) => {
    if (c.id.trim() === '' || COURSE_PREFIX.length + c.id.length > META_LIMITS.rowId) {
      warnings.push(`courses: course ${JSON.stringify(c.code)} has an unusable id, not listed`);
      return false;
    }
    if (seen.has(c.id)) {
      warnings.push(`courses: duplicate course id ${c.id}, only the first is listed`);
      return false;
    }
    seen.add(c.id);
    return true;
  });
}

/** Title = name (cut to 24); description = the code, or the full name when the title had to be cut. */
function courseRow(course: Course, warnings: string[]): ListRow {
  const name = nonBlank(course.name) ?? course.code;
  const title = fitText(name, META_LIMITS.rowTitle, `courses: course ${course.code} title`, warnings);
  const description = title === name ? course.code : name;
  return {
    id: COURSE_PREFIX + course.id,
    title,
    description: fitText(
      description,
      META_LIMITS.rowDescription,
      `courses: course ${course.code} description`,
      warnings,
    ),
  };
}

function navRow(id: string, text: string, fallback: string, warnings: string[]): ListRow {
  return { id, title: fitText(nonBlank(text) ?? fallback, META_LIMITS.rowTitle, `courses: row ${id} title`, warnings) };
}
