import { describe, expect, it } from 'vitest';
import { renderMenu } from '../../../src/routing/render-menu.js';
import { META_LIMITS } from '../../../src/routing/types.js';
import type { Menu, MenuOption, OutboundContent, RoutingTexts } from '../../../src/routing/types.js';

// Mirrors supabase/seed-texts.sql.
const texts: RoutingTexts = {
  derivationConfirmation: 'Listo, te derivamos con {area}. Ticket {ticket}.',
  alreadyDerived: 'Ya te derivamos con {area}: en breve te responden por acá. Si querés volver al menú escribí MENU.',
  inboxLineNote: 'Hola 👋 Este número no recibe consultas.',
  coursesHeader: 'Cursos',
  coursesBody: 'Elegí un curso para hablar con un asesor (página {page} de {pages}).',
  coursesButton: 'Ver cursos',
  coursesNext: 'Más cursos ▶',
  coursesPrevious: '◀ Anteriores',
  back: '↩️ Menú principal',
  noCourses: 'Por ahora no hay cursos abiertos. Escribí MENU para volver al menú.',
};

const option = (o: Partial<MenuOption> & Pick<MenuOption, 'optionId' | 'title'>): MenuOption => ({
  order: 1,
  emoji: null,
  description: null,
  action: 'derivar',
  submenuId: null,
  area: null,
  subLabel: null,
  contextMessage: null,
  ...o,
});

// The three default menus of supabase/seed.sql, options in `orden` order.
const principal: Menu = {
  id: 'principal',
  name: 'Menú principal',
  header: '¡Hola! 👋',
  body: '¿En qué podemos ayudarte? Elegí un área de la lista.',
  footer: 'Escribí MENU para volver aquí',
  buttonText: 'Ver opciones',
  kind: 'list',
  parentMenuId: null,
  options: [
    option({
      optionId: 'administracion',
      order: 1,
      emoji: '💳',
      title: 'Administración',
      description: 'Pagos, cuotas y facturas',
      area: 'administracion',
      contextMessage: 'Consulta administrativa',
    }),
    option({
      optionId: 'alumnos',
      order: 2,
      emoji: '🎓',
      title: 'Alumnos',
      description: 'Clases, campus y certificados',
      action: 'submenu',
      submenuId: 'alumnos',
    }),
    option({
      optionId: 'inscripciones',
      order: 3,
      emoji: '📝',
      title: 'Inscripciones',
      description: 'Cursos, precios e inscripción',
      action: 'submenu',
      submenuId: 'inscripciones',
    }),
    option({
      optionId: 'comunidad',
      order: 4,
      emoji: '🤝',
      title: 'Comunidad',
      description: 'Eventos y novedades',
      area: 'comunidad',
      contextMessage: 'Consulta de comunidad',
    }),
  ],
};
const alumnos: Menu = {
  id: 'alumnos',
  name: 'Alumnos',
  header: 'Alumnos',
  body: '¿Qué necesitás?',
  footer: 'Escribí MENU para volver',
  buttonText: 'Ver opciones',
  kind: 'list',
  parentMenuId: 'principal',
  options: [
    option({
      optionId: 'alumnos_campus',
      order: 1,
      emoji: '💻',
      title: 'Campus virtual',
      description: 'Acceso y problemas técnicos',
      area: 'alumnos',
      subLabel: 'campus',
      contextMessage: 'Problema con el campus',
    }),
    option({
      optionId: 'alumnos_certificados',
      order: 2,
      emoji: '📜',
      title: 'Certificados',
      description: 'Pedido de certificados',
      area: 'alumnos',
      subLabel: 'certificados',
      contextMessage: 'Pedido de certificado',
    }),
    option({
      optionId: 'alumnos_otro',
      order: 3,
      emoji: '💬',
      title: 'Otra consulta',
      description: 'Hablar con el equipo de alumnos',
      area: 'alumnos',
      subLabel: 'otro',
    }),
    option({
      optionId: 'alumnos_volver',
      order: 9,
      emoji: '↩️',
      title: 'Volver',
      description: 'Menú principal',
      action: 'volver',
    }),
  ],
};
const inscripciones: Menu = {
  id: 'inscripciones',
  name: 'Inscripciones',
  header: 'Inscripciones',
  body: 'Elegí una opción para inscribirte o consultar cursos.',
  footer: 'Escribí MENU para volver',
  buttonText: 'Ver opciones',
  kind: 'list',
  parentMenuId: 'principal',
  options: [
    option({
      optionId: 'inscripciones_cursos',
      order: 1,
      emoji: '📚',
      title: 'Ver cursos',
      description: 'Lista de cursos abiertos',
      action: 'cursos_dinamico',
      area: 'ventas',
      subLabel: 'curso',
    }),
    option({
      optionId: 'inscripciones_asesor',
      order: 2,
      emoji: '🙋',
      title: 'Hablar con un asesor',
      description: 'Precios, becas y formas de pago',
      area: 'ventas',
      subLabel: 'asesor',
      contextMessage: 'Quiere hablar con un asesor',
    }),
    option({
      optionId: 'inscripciones_volver',
      order: 9,
      emoji: '↩️',
      title: 'Volver',
      description: 'Menú principal',
      action: 'volver',
    }),
  ],
};

/**
 * A menu edited badly in the CRM: 15 options whose 40-unit titles put an emoji (UTF-16 units
 * 22–23 of the row title "🔥 " + title) exactly where the 24-character cut falls, 100-character
 * descriptions, a 30-character button text and an 80-character header.
 */
const pathological: Menu = {
  id: 'raro',
  name: 'Un nombre de menú demasiado largo para una sección',
  header: 'H'.repeat(80),
  body: 'B'.repeat(1500),
  footer: 'F'.repeat(70),
  buttonText: 'Botón con un texto larguísimo.',
  kind: 'list',
  parentMenuId: null,
  options: Array.from({ length: 15 }, (_, i) =>
    option({
      optionId: `raro_${i + 1}`,
      order: i + 1,
      emoji: '🔥',
      title: `${String(i + 1).padStart(2, '0')}${'t'.repeat(17)}😀${'u'.repeat(19)}`,
      description: 'd'.repeat(100),
    }),
  ),
};

const hasLoneSurrogate = (s: string) =>
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

/** Every field of the content within Meta's limits and well formed (no emoji split in half). */
function expectWithinMetaLimits(content: OutboundContent): void {
  const check = (value: string | undefined, max: number) => {
    if (value === undefined) return;
    expect(value.length).toBeGreaterThan(0);
    expect(value.length).toBeLessThanOrEqual(max);
    expect(hasLoneSurrogate(value)).toBe(false);
  };
  if (content.kind === 'text') return check(content.body, META_LIMITS.textBody);
  check(content.header, META_LIMITS.headerText);
  check(content.body, META_LIMITS.body);
  check(content.footer, META_LIMITS.footer);
  if (content.kind === 'buttons') {
    expect(content.buttons.length).toBeLessThanOrEqual(META_LIMITS.replyButtons);
    expect(new Set(content.buttons.map((b) => b.id)).size).toBe(content.buttons.length);
    expect(new Set(content.buttons.map((b) => b.title)).size).toBe(content.buttons.length);
    for (const b of content.buttons) {
      check(b.id, META_LIMITS.replyButtonId);
      check(b.title, META_LIMITS.replyButtonTitle);
    }
    return;
  }
  check(content.button, META_LIMITS.listButton);
  expect(content.sections.length).toBeLessThanOrEqual(META_LIMITS.listSections);
  const rows = content.sections.flatMap((s) => s.rows);
  expect(rows.length).toBeLessThanOrEqual(META_LIMITS.listRowsTotal);
  expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
  for (const s of content.sections) check(s.title, META_LIMITS.sectionTitle);
  for (const r of rows) {
    check(r.id, META_LIMITS.rowId);
    check(r.title, META_LIMITS.rowTitle);
    check(r.description, META_LIMITS.rowDescription);
  }
}

const rowsOf = (content: OutboundContent) => (content.kind === 'list' ? content.sections.flatMap((s) => s.rows) : []);

describe('renderMenu — seed menus', () => {
  it('when the seed main menu is rendered, then it is the exact list of its four areas with no warnings', () => {
    const rendered = renderMenu(principal, texts);
    expect(rendered.content).toEqual({
      kind: 'list',
      header: '¡Hola! 👋',
      body: '¿En qué podemos ayudarte? Elegí un área de la lista.',
      footer: 'Escribí MENU para volver aquí',
      button: 'Ver opciones',
      sections: [
        {
          title: 'Menú principal',
          rows: [
            { id: 'administracion', title: '💳 Administración', description: 'Pagos, cuotas y facturas' },
            { id: 'alumnos', title: '🎓 Alumnos', description: 'Clases, campus y certificados' },
            { id: 'inscripciones', title: '📝 Inscripciones', description: 'Cursos, precios e inscripción' },
            { id: 'comunidad', title: '🤝 Comunidad', description: 'Eventos y novedades' },
          ],
        },
      ],
    });
    expect(rendered.warnings).toEqual([]);
    expect(rendered.preview).toBe(
      '¿En qué podemos ayudarte? Elegí un área de la lista.\n\n1. 💳 Administración\n2. 🎓 Alumnos\n3. 📝 Inscripciones\n4. 🤝 Comunidad',
    );
  });

  it.each([principal, alumnos, inscripciones])(
    'when seed menu $id is rendered, then every option is a row in order, within limits, without warnings',
    (menu) => {
      const rendered = renderMenu(menu, texts);
      expectWithinMetaLimits(rendered.content);
      expect(rowsOf(rendered.content).map((r) => r.id)).toEqual(menu.options.map((o) => o.optionId));
      expect(rendered.warnings).toEqual([]);
    },
  );

  it('when the longest seed title (🙋 Hablar con un asesor, 23 units) is rendered, then it is not cut', () => {
    expect(rowsOf(renderMenu(inscripciones, texts).content)[1]?.title).toBe('🙋 Hablar con un asesor');
  });
});

describe('renderMenu — pathological menu', () => {
  const rendered = renderMenu(pathological, texts);
  const rows = rowsOf(rendered.content);

  it('when a menu has 15 options, then only the first 10 are sent and a warning says so', () => {
    expect(rows).toHaveLength(META_LIMITS.listRowsTotal);
    expect(rows.map((r) => r.id)).toEqual(pathological.options.slice(0, 10).map((o) => o.optionId));
    expect(rendered.warnings).toContain('menu raro: 15 options, only the first 10 sent (Meta allows 10 rows)');
  });

  it('when titles put an emoji at the cut point, then the emoji is dropped whole and the title ends with an ellipsis', () => {
    for (const [i, row] of rows.entries()) {
      expect(row.title).toBe(`🔥 ${String(i + 1).padStart(2, '0')}${'t'.repeat(17)}…`);
      expect(row.title.length).toBeLessThanOrEqual(META_LIMITS.rowTitle);
      expect(hasLoneSurrogate(row.title)).toBe(false);
    }
  });

  it('when every field is over its limit, then each is cut to its limit and warned about', () => {
    expectWithinMetaLimits(rendered.content);
    if (rendered.content.kind !== 'list') throw new Error('expected a list');
    expect(rendered.content.header).toBe(`${'H'.repeat(META_LIMITS.headerText - 1)}…`);
    expect(rendered.content.body).toHaveLength(META_LIMITS.body);
    expect(rendered.content.footer).toHaveLength(META_LIMITS.footer);
    expect(rendered.content.button).toBe('Botón con un texto…');
    expect(rendered.content.sections[0]?.title).toHaveLength(META_LIMITS.sectionTitle);
    expect(rows.every((r) => r.description === `${'d'.repeat(META_LIMITS.rowDescription - 1)}…`)).toBe(true);
    expect(rendered.warnings).toEqual(
      expect.arrayContaining([
        'menu raro: header cut to 60 characters (Meta limit)',
        'menu raro: body cut to 1024 characters (Meta limit)',
        'menu raro: footer cut to 60 characters (Meta limit)',
        'menu raro: button cut to 20 characters (Meta limit)',
        'menu raro: section title cut to 24 characters (Meta limit)',
        'menu raro: option raro_1 title cut to 24 characters (Meta limit)',
        'menu raro: option raro_10 description cut to 72 characters (Meta limit)',
      ]),
    );
    // Options not sent are not reported as cut.
    expect(rendered.warnings.some((w) => w.includes('raro_11'))).toBe(false);
  });

  it('when the pathological menu is rendered as reply buttons, then it falls back to the same 10-row list with a warning', () => {
    const asButtons = renderMenu({ ...pathological, kind: 'buttons' }, texts);
    expect(asButtons.content.kind).toBe('list');
    expect(rowsOf(asButtons.content)).toHaveLength(10);
    expect(asButtons.warnings).toContain('menu raro: 15 options, sent as a list (Meta allows 3 reply buttons)');
    expectWithinMetaLimits(asButtons.content);
  });

  it('when the pathological menu is rendered as text, then all 15 options are numbered in order', () => {
    const asText = renderMenu({ ...pathological, kind: 'text' }, texts);
    if (asText.content.kind !== 'text') throw new Error('expected text');
    const numbered = asText.content.body.split('\n').filter((l) => /^\d+\. /.test(l));
    expect(numbered.map((l) => Number(l.split('.')[0]))).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expectWithinMetaLimits(asText.content);
  });
});

describe('renderMenu — repairs', () => {
  it('when two options share an id, then the first is kept and a warning names the duplicate', () => {
    const menu: Menu = {
      ...principal,
      options: [...principal.options, option({ optionId: 'alumnos', title: 'Otra vez alumnos' })],
    };
    const rendered = renderMenu(menu, texts);
    expect(rowsOf(rendered.content).map((r) => r.id)).toEqual([
      'administracion',
      'alumnos',
      'inscripciones',
      'comunidad',
    ]);
    expect(rowsOf(rendered.content)[1]?.title).toBe('🎓 Alumnos');
    expect(rendered.warnings).toEqual([
      'menu principal: duplicate option id alumnos at position 5, only the first is sent',
    ]);
  });

  it('when an option id is empty or longer than 200, then that option is not sent, the rest are, and the preview keeps typed-number positions', () => {
    const menu: Menu = {
      ...alumnos,
      options: [
        option({ optionId: '', title: 'Sin id' }),
        option({ optionId: 'x'.repeat(201), title: 'Id largo' }),
        ...alumnos.options,
      ],
    };
    const rendered = renderMenu(menu, texts);
    expect(rowsOf(rendered.content).map((r) => r.id)).toEqual(alumnos.options.map((o) => o.optionId));
    expect(rendered.warnings).toHaveLength(2);
    expect(rendered.warnings[0]).toBe('menu alumnos: option at position 1 has an unusable id "", not sent');
    expect(rendered.preview.split('\n').slice(2)).toEqual([
      '3. 💻 Campus virtual',
      '4. 📜 Certificados',
      '5. 💬 Otra consulta',
      '6. ↩️ Volver',
    ]);
  });

  it('when an option has no emoji, then its row title is the title alone', () => {
    const menu: Menu = {
      ...alumnos,
      options: [
        option({ optionId: 'a', emoji: null, title: 'Campus' }),
        option({ optionId: 'b', emoji: ' ', title: 'Otro' }),
      ],
    };
    expect(rowsOf(renderMenu(menu, texts).content).map((r) => r.title)).toEqual(['Campus', 'Otro']);
  });

  it('when header, footer and description are blank, then those keys are omitted rather than sent empty', () => {
    const menu: Menu = {
      ...alumnos,
      header: '  ',
      footer: null,
      options: [option({ optionId: 'a', title: 'Campus', description: '' })],
    };
    const content = renderMenu(menu, texts).content;
    expect(content).not.toHaveProperty('header');
    expect(content).not.toHaveProperty('footer');
    expect(rowsOf(content)[0]).toEqual({ id: 'a', title: 'Campus' });
  });

  it('when the menu has no button text, then the courses button text is used, and without it "Ver opciones"', () => {
    const noButton: Menu = { ...principal, buttonText: null };
    const first = renderMenu(noButton, texts).content;
    const second = renderMenu(noButton, { ...texts, coursesButton: '' }).content;
    expect(first.kind === 'list' && first.button).toBe('Ver cursos');
    expect(second.kind === 'list' && second.button).toBe('Ver opciones');
  });

  it('when the body is blank, then the menu name is sent as body with a warning', () => {
    const rendered = renderMenu({ ...alumnos, body: ' ' }, texts);
    expect(rendered.content.kind === 'list' && rendered.content.body).toBe('Alumnos');
    expect(rendered.warnings).toEqual(['menu alumnos: empty body, the menu name is sent instead']);
  });

  it.each(['list', 'buttons', 'text'] as const)(
    'when a %s menu has zero options, then only its body is sent as text with a warning',
    (kind) => {
      const rendered = renderMenu({ ...alumnos, kind, options: [] }, texts);
      expect(rendered.content).toEqual({ kind: 'text', body: '¿Qué necesitás?' });
      expect(rendered.preview).toBe('¿Qué necesitás?');
      expect(rendered.warnings).toEqual(['menu alumnos: no active options, sent as text with the body only']);
    },
  );
});

describe('renderMenu — reply buttons', () => {
  it('when a buttons menu has 3 options, then they are reply buttons with the option ids', () => {
    const rendered = renderMenu({ ...inscripciones, kind: 'buttons' }, texts);
    expect(rendered.content).toEqual({
      kind: 'buttons',
      header: 'Inscripciones',
      body: 'Elegí una opción para inscribirte o consultar cursos.',
      footer: 'Escribí MENU para volver',
      buttons: [
        { id: 'inscripciones_cursos', title: '📚 Ver cursos' },
        { id: 'inscripciones_asesor', title: '🙋 Hablar con un as…' },
        { id: 'inscripciones_volver', title: '↩️ Volver' },
      ],
    });
    expectWithinMetaLimits(rendered.content);
    expect(rendered.warnings).toEqual([
      'menu inscripciones: option inscripciones_asesor title cut to 20 characters (Meta limit)',
    ]);
    expect(rendered.preview).toBe(
      'Elegí una opción para inscribirte o consultar cursos.\n\n1. 📚 Ver cursos\n2. 🙋 Hablar con un as…\n3. ↩️ Volver',
    );
  });

  it('when a buttons menu has 4 options, then it is sent as a list with a warning', () => {
    const rendered = renderMenu({ ...alumnos, kind: 'buttons' }, texts);
    expect(rendered.content.kind).toBe('list');
    expect(rowsOf(rendered.content).map((r) => r.id)).toEqual(alumnos.options.map((o) => o.optionId));
    expect(rendered.warnings).toEqual(['menu alumnos: 4 options, sent as a list (Meta allows 3 reply buttons)']);
  });

  it('when button titles become equal once cut to 20, then it is sent as a list (Meta needs unique titles) without cut warnings for buttons', () => {
    const menu: Menu = {
      ...alumnos,
      kind: 'buttons',
      options: [
        option({ optionId: 'a', title: 'Consulta sobre el campus virtual' }),
        option({ optionId: 'b', title: 'Consulta sobre el campus presencial' }),
      ],
    };
    const rendered = renderMenu(menu, texts);
    expect(rendered.content.kind).toBe('list');
    expect(rowsOf(rendered.content).map((r) => r.title)).toEqual([
      'Consulta sobre el campu…',
      'Consulta sobre el campu…',
    ]);
    expect(rendered.warnings).toEqual([
      'menu alumnos: reply button titles repeat once cut to 20 characters, sent as a list',
      'menu alumnos: option a title cut to 24 characters (Meta limit)',
      'menu alumnos: option b title cut to 24 characters (Meta limit)',
    ]);
  });
});

describe('renderMenu — text menus', () => {
  it('when a text menu is rendered, then it is the body, one numbered line per option in order, and the footer', () => {
    const rendered = renderMenu({ ...alumnos, kind: 'text' }, texts);
    const expected =
      '¿Qué necesitás?\n\n1. 💻 Campus virtual\n2. 📜 Certificados\n3. 💬 Otra consulta\n4. ↩️ Volver\n\nEscribí MENU para volver';
    expect(rendered.content).toEqual({ kind: 'text', body: expected });
    expect(rendered.preview).toBe(expected);
    expect(rendered.warnings).toEqual([]);
  });

  it('when a text menu repeats an option id, then every option keeps its number (typed N selects options[N-1]) and a warning is given', () => {
    const menu: Menu = {
      ...alumnos,
      kind: 'text',
      footer: null,
      options: [option({ optionId: 'a', title: 'Uno' }), option({ optionId: 'a', title: 'Dos' })],
    };
    const rendered = renderMenu(menu, texts);
    expect(rendered.content).toEqual({ kind: 'text', body: '¿Qué necesitás?\n\n1. Uno\n2. Dos' });
    expect(rendered.warnings).toEqual(['menu alumnos: duplicate option id a at position 2']);
  });
});
