import { describe, expect, it } from 'vitest';
import { coursePageCount, parseCourseRowId, renderCoursePage } from '../../../src/routing/render-courses.js';
import { META_LIMITS } from '../../../src/routing/types.js';
import type { Course, ListRow, OutboundContent, RoutingTexts } from '../../../src/routing/types.js';

// Mirrors supabase/seed-texts.sql.
const texts: RoutingTexts = {
  derivationConfirmation: 'Listo, te derivamos con {area}. Ticket {ticket}.',
  alreadyDerived: 'Ya te derivamos con {area}.',
  inboxLineNote: 'Hola 👋 Este número no recibe consultas.',
  coursesHeader: 'Cursos',
  coursesBody: 'Elegí un curso para hablar con un asesor (página {page} de {pages}).',
  coursesButton: 'Ver cursos',
  coursesNext: 'Más cursos ▶',
  coursesPrevious: '◀ Anteriores',
  back: '↩️ Menú principal',
  noCourses: 'Por ahora no hay cursos abiertos. Escribí MENU para volver al menú.',
};

// supabase/seed.sql
const seedCourses: Course[] = [
  { id: 'PROG-01', code: 'PROG-01', name: 'Programación inicial' },
  { id: 'DIS-01', code: 'DIS-01', name: 'Diseño gráfico' },
  { id: 'MKT-01', code: 'MKT-01', name: 'Marketing digital' },
  { id: 'ING-01', code: 'ING-01', name: 'Inglés conversacional' },
];

const coursesOf = (n: number): Course[] =>
  Array.from({ length: n }, (_, i) => ({ id: `C${i + 1}`, code: `C${i + 1}`, name: `Curso ${i + 1}` }));

const rowsOf = (content: OutboundContent): ListRow[] => {
  if (content.kind !== 'list') throw new Error(`expected a list, got ${content.kind}`);
  return content.sections.flatMap((s) => s.rows);
};

describe('renderCoursePage — layout', () => {
  it('when the 4 seed courses are listed, then one page holds them all plus "back"', () => {
    const rendered = renderCoursePage(seedCourses, 0, texts);
    expect(rendered.page).toBe(0);
    expect(rendered.pages).toBe(1);
    expect(rendered.content).toEqual({
      kind: 'list',
      header: 'Cursos',
      body: 'Elegí un curso para hablar con un asesor (página 1 de 1).',
      button: 'Ver cursos',
      sections: [
        {
          rows: [
            { id: 'curso_PROG-01', title: 'Programación inicial', description: 'PROG-01' },
            { id: 'curso_DIS-01', title: 'Diseño gráfico', description: 'DIS-01' },
            { id: 'curso_MKT-01', title: 'Marketing digital', description: 'MKT-01' },
            { id: 'curso_ING-01', title: 'Inglés conversacional', description: 'ING-01' },
            { id: 'volver', title: '↩️ Menú principal' },
          ],
        },
      ],
    });
    expect(rendered.warnings).toEqual([]);
    expect(rendered.preview).toBe(
      'Elegí un curso para hablar con un asesor (página 1 de 1).\n\n1. Programación inicial\n2. Diseño gráfico\n3. Marketing digital\n4. Inglés conversacional\n5. ↩️ Menú principal',
    );
  });

  it('when 13 courses are listed, then page 1 has 8 courses + next + back and page 2 has the other 5 + previous + back', () => {
    const courses = coursesOf(13);
    const first = renderCoursePage(courses, 0, texts);
    const second = renderCoursePage(courses, 1, texts);
    expect([first.pages, second.pages]).toEqual([2, 2]);
    expect(rowsOf(first.content).map((r) => r.id)).toEqual([
      ...courses.slice(0, 8).map((c) => `curso_${c.code}`),
      'ver_mas_cursos_p1',
      'volver',
    ]);
    expect(rowsOf(second.content).map((r) => r.id)).toEqual([
      ...courses.slice(8).map((c) => `curso_${c.code}`),
      'ver_mas_cursos_p0',
      'volver',
    ]);
    expect(
      rowsOf(first.content)
        .slice(-2)
        .map((r) => r.title),
    ).toEqual(['Más cursos ▶', '↩️ Menú principal']);
    expect(
      rowsOf(second.content)
        .slice(-2)
        .map((r) => r.title),
    ).toEqual(['◀ Anteriores', '↩️ Menú principal']);
    expect(second.content.kind === 'list' && second.content.body).toBe(
      'Elegí un curso para hablar con un asesor (página 2 de 2).',
    );
  });

  it.each([
    [0, 0],
    [1, 1],
    [9, 1],
    [10, 2],
    [13, 2],
    [16, 2],
    [17, 3],
    [23, 3],
    [24, 4],
    [40, 6],
  ])('when there are %i courses, then there are %i pages', (total, pages) => {
    expect(coursePageCount(total)).toBe(pages);
  });

  it('when totals 0..40 are paginated, then every page has ≤10 rows, every course appears once in order, no page is empty and navigation is consistent', () => {
    for (let total = 0; total <= 40; total++) {
      const courses = coursesOf(total);
      const pages = coursePageCount(total);
      const listed: string[] = [];
      for (let page = 0; page < pages; page++) {
        const rendered = renderCoursePage(courses, page, texts);
        expect(rendered).toMatchObject({ page, pages, warnings: [] });
        const rows = rowsOf(rendered.content);
        expect(rows.length).toBeLessThanOrEqual(META_LIMITS.listRowsTotal);
        const parsed = rows.map((r) => parseCourseRowId(r.id));
        const courseCodes = parsed.flatMap((p) => (p?.kind === 'course' ? [p.id] : []));
        const pageTargets = parsed.flatMap((p) => (p?.kind === 'page' ? [p.page] : []));
        expect(courseCodes.length).toBeGreaterThan(0);
        listed.push(...courseCodes);
        // next (p+1) only when more remain, previous (p-1) only after the first page, back always (last row).
        expect(pageTargets).toEqual([...(page < pages - 1 ? [page + 1] : []), ...(page > 0 ? [page - 1] : [])]);
        expect(parsed.at(-1)).toEqual({ kind: 'back' });
        expect(parsed.filter((p) => p === null)).toEqual([]);
        // Pages are as full as the navigation allows: only the last page may have free rows.
        if (page < pages - 1) expect(rows).toHaveLength(META_LIMITS.listRowsTotal);
        for (const r of rows) {
          expect(r.title.length).toBeLessThanOrEqual(META_LIMITS.rowTitle);
          expect((r.description ?? '').length).toBeLessThanOrEqual(META_LIMITS.rowDescription);
        }
      }
      expect(listed).toEqual(courses.map((c) => c.code));
    }
  });
});

describe('renderCoursePage — edges', () => {
  it('when there are no courses, then the no-courses text is sent as a text message', () => {
    expect(renderCoursePage([], 0, texts)).toEqual({
      content: { kind: 'text', body: texts.noCourses },
      preview: texts.noCourses,
      warnings: [],
      page: 0,
      pages: 0,
    });
  });

  it.each([
    [-3, 0],
    [Number.NaN, 0],
    [1.7, 1],
    [2, 2],
    [99, 2],
  ])('when page %d of 3 is asked, then page %i is rendered', (asked, rendered) => {
    const result = renderCoursePage(coursesOf(20), asked, texts);
    expect(result.page).toBe(rendered);
    expect(result.content.kind === 'list' && result.content.body).toContain(`página ${rendered + 1} de 3`);
  });

  it('when a course name is longer than 24, then the title is cut with an ellipsis and the description holds the full name', () => {
    const name = 'Programación avanzada con TypeScript y Node.js';
    const rendered = renderCoursePage([{ id: 'TS-02', code: 'TS-02', name }], 0, texts);
    expect(rowsOf(rendered.content)[0]).toEqual({
      id: 'curso_TS-02',
      title: 'Programación avanzada c…',
      description: name,
    });
    expect(rendered.warnings).toEqual(['courses: course TS-02 title cut to 24 characters (Meta limit)']);
  });

  it('when course codes repeat or are blank, then only the first of each usable code is listed, with warnings', () => {
    const rendered = renderCoursePage(
      [
        { id: 'A', code: 'A', name: 'Uno' },
        { id: 'A', code: 'A', name: 'Uno bis' },
        { id: ' ', code: ' ', name: 'Sin código' },
      ],
      0,
      texts,
    );
    expect(rowsOf(rendered.content).map((r) => r.id)).toEqual(['curso_A', 'volver']);
    expect(rendered.warnings).toEqual([
      'courses: duplicate course id A, only the first is listed',
      'courses: course " " has an unusable id, not listed',
    ]);
  });

  it('when navigation texts are blank, then fallback titles are used so no row has an empty title', () => {
    const blank = { ...texts, coursesNext: '', coursesPrevious: ' ', back: '', coursesButton: '', coursesHeader: '' };
    const rendered = renderCoursePage(coursesOf(20), 1, blank);
    expect(
      rowsOf(rendered.content)
        .slice(-3)
        .map((r) => r.title),
    ).toEqual(['Siguiente', 'Anterior', 'Volver']);
    expect(rendered.content).not.toHaveProperty('header');
    expect(rendered.content.kind === 'list' && rendered.content.button).toBe('Ver opciones');
  });

  it('when configured texts exceed Meta limits, then they are cut to them', () => {
    const long = {
      ...texts,
      coursesHeader: 'H'.repeat(80),
      coursesButton: 'B'.repeat(30),
      coursesNext: 'N'.repeat(40),
    };
    const rendered = renderCoursePage(coursesOf(12), 0, long);
    if (rendered.content.kind !== 'list') throw new Error('expected a list');
    expect(rendered.content.header).toHaveLength(META_LIMITS.headerText);
    expect(rendered.content.button).toHaveLength(META_LIMITS.listButton);
    expect(rowsOf(rendered.content).at(-2)?.title).toHaveLength(META_LIMITS.rowTitle);
    expect(rendered.warnings).toHaveLength(3);
  });
});

describe('parseCourseRowId', () => {
  it.each([
    ['curso_PROG-01', { kind: 'course', id: 'PROG-01' }],
    ['curso_A:B', { kind: 'course', id: 'A:B' }],
    ['ver_mas_cursos_p0', { kind: 'page', page: 0 }],
    ['ver_mas_cursos_p12', { kind: 'page', page: 12 }],
    ['volver', { kind: 'back' }],
    ['curso_', null],
    ['ver_mas_cursos_p', null],
    ['ver_mas_cursos_p-1', null],
    ['ver_mas_cursos_p1.5', null],
    ['ver_mas_cursos_p99999999999999999999', null],
    ['administracion', null],
    ['', null],
  ])('when the row id is %j, then it parses to %j', (id, expected) => {
    expect(parseCourseRowId(id)).toEqual(expected);
  });
});
