/**
 * Web leads: the website's WhatsApp button pre-fills "… sobre el curso X en la web". Matching X to a
 * course (FLOWS.md §A5), accent- and case-insensitive, in order:
 *   1. a course code (`cursos.codigo`) equal to X;
 *   2. the newest cohort name of each course code, stripped of its "Curso (de) …" prefix and its
 *      "- Mes Año" / "- ON DEMAND" suffix: an exact match wins, else the best containment;
 *   3. `cursos.nombre` / `psi_nombre`, the same way.
 * Containment (fixing §D17) counts only when the shorter name has at least two words and covers at
 * least half of the longer one, and a tie between two courses matches neither: a short or generic
 * name ("Curso", "TEA") can no longer land a lead on the wrong course. Pure.
 */
import type { AdCourse, AdsCatalog, Cohort } from './ads-types.js';

const PATTERN = /sobre el curso\s+(.+?)\s+en la web/i;
const MONTHS = 'enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre';

/** The course name a web-lead text carries, or null when the text is not a web lead. */
export function webLeadName(text: string | null): string | null {
  const m = text ? PATTERN.exec(text) : null;
  const name = m?.[1]?.trim() ?? '';
  return name === '' ? null : name;
}

/** Upper case, no accents, letters and digits only, single spaces. */
export function normaliseName(value: string): string {
  return value
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, ' ')
    .trim();
}

/** A cohort's name without its prefix and date suffix ("ATF - Curso de X - Marzo 2026" → "X"). */
export function cohortBaseName(name: string): string {
  return name
    .replace(/^\s*(?:ATF\s*-\s*)?Curso(?:\s+de)?\s+/i, '')
    .replace(new RegExp(`\\s*-\\s*(?:${MONTHS})\\s+\\d{4}\\s*$`, 'i'), '')
    .replace(/\s*-\s*ON DEMAND\s*$/i, '')
    .trim();
}

export function matchWebCourse(name: string, catalog: AdsCatalog): AdCourse | null {
  const wanted = normaliseName(name);
  if (wanted === '') return null;
  const courses = [...catalog.courses.values()];
  const byCode = new Map(courses.map((c) => [normaliseName(c.code), c]));
  const coded = byCode.get(wanted);
  if (coded) return coded;

  const cohortNames = newestCohortNames(catalog.cohorts);
  const fromCohort = bestMatch(
    wanted,
    [...cohortNames].flatMap(([code, base]) => {
      const course = byCode.get(normaliseName(code));
      return course ? [{ course, name: base }] : [];
    }),
  );
  if (fromCohort) return fromCohort;
  return bestMatch(
    wanted,
    courses.flatMap((c) => [c.name, c.webName].filter((n): n is string => !!n).map((n) => ({ course: c, name: n }))),
  );
}

function newestCohortNames(cohorts: readonly Cohort[]): Map<string, string> {
  const newest = new Map<string, Cohort>();
  for (const c of cohorts) {
    const seen = newest.get(c.code);
    if (!seen || c.year > seen.year || (c.year === seen.year && c.month > seen.month)) newest.set(c.code, c);
  }
  return new Map([...newest].map(([code, c]) => [code, cohortBaseName(c.name)]));
}

function bestMatch(wanted: string, candidates: { course: AdCourse; name: string }[]): AdCourse | null {
  let best: { course: AdCourse; score: number } | null = null;
  let tie = false;
  for (const { course, name } of candidates) {
    const norm = normaliseName(name);
    if (norm === '') continue;
    if (norm === wanted) return course;
    const [shorter, longer] = norm.length <= wanted.length ? [norm, wanted] : [wanted, norm];
    const contained = ` ${longer} `.includes(` ${shorter} `);
    if (!contained || shorter.split(' ').length < 2 || shorter.length * 2 < longer.length) continue;
    const score = shorter.length;
    if (!best || score > best.score) {
      best = { course, score };
      tie = false;
    } else if (score === best.score && best.course.id !== course.id) tie = true;
  }
  return best && !tie ? best.course : null;
}
