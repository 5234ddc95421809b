import { describe, expect, it } from 'vitest';
import { decide, type ConversationState, type PriorMessage, type RoutingInput } from '../../../src/routing/decide.js';
import type { InboundMessageEvent } from '../../../src/webhook/inbound-event.js';
import { catalog, courses, line } from '../../fixtures/routing/catalog.js';
import { inboundEvent, tapEvent } from '../../fixtures/routing/inbound-event.js';

const LINE = line();
const T = 1_790_000_000; // message time, unix seconds
const iso = (secondsBefore: number) => new Date((T - secondsBefore) * 1000).toISOString();

const msg = (o: Partial<InboundMessageEvent> = {}): InboundMessageEvent => inboundEvent({ timestamp: T, ...o });
const tap = (id: string, kind: 'list_reply' | 'button_reply' = 'list_reply') => tapEvent(id, kind, { timestamp: T });
const text = (t: string) => msg({ text: t });

function conv(o: Partial<ConversationState> = {}): ConversationState {
  return {
    estado: 'activa',
    router_estado: 'menu_principal',
    menu_actual: 'principal',
    area: 'wsp4',
    ts_ultima_derivacion: null,
    ticket_id: null,
    metadata: {},
    desconectado_wsp4: false,
    desconectado_ventas_api: false,
    inbox_fijo: null,
    ...o,
  };
}
const derived = (o: Partial<ConversationState> = {}) =>
  conv({
    estado: 'derivada',
    router_estado: 'derivado',
    menu_actual: null,
    area: 'administracion',
    ts_ultima_derivacion: iso(3600),
    ticket_id: 'TKT-1',
    ...o,
  });
const prior = (
  direccion: 'entrante' | 'saliente',
  secondsBefore: number,
  remitente_tipo = direccion === 'entrante' ? 'contacto' : 'bot',
): PriorMessage => ({
  direccion,
  remitente_tipo,
  whatsapp_message_id: `wamid.P${secondsBefore}`,
  timestamp: iso(secondsBefore),
});

function run(c: ConversationState, m: InboundMessageEvent, o: Partial<RoutingInput> = {}) {
  return decide({
    line: LINE,
    conversation: c,
    created: false,
    previousWindowEnd: null,
    message: m,
    recent: [prior('entrante', 60)],
    knownElsewhere: false,
    catalog: catalog(),
    ...o,
  });
}
const fresh = (m: InboundMessageEvent, o: Partial<RoutingInput> = {}) =>
  run(conv({ router_estado: null, menu_actual: null }), m, { created: true, recent: [], ...o });
const rowIds = (d: ReturnType<typeof run>) => {
  const content = d.replies[0]?.content;
  return content?.kind === 'list' ? content.sections.flatMap((s) => s.rows.map((r) => r.id)) : [];
};

describe('decide: menu line', () => {
  it('when a new conversation starts, then the main menu is sent and the state is menu_principal', () => {
    const d = fresh(text('hola'));
    expect(d.outcome).toBe('menu_sent');
    expect(d.state).toMatchObject({ estado: 'activa', router_estado: 'menu_principal', menu_actual: 'principal' });
    expect(rowIds(d)).toEqual(['administracion', 'alumnos', 'inscripciones', 'comunidad']);
  });

  it('when a submenu option is tapped, then that submenu is sent', () => {
    const d = run(conv(), tap('alumnos'));
    expect(d.outcome).toBe('submenu_sent');
    expect(d.state).toMatchObject({ router_estado: 'submenu_alumnos', menu_actual: 'alumnos' });
    expect(rowIds(d)).toEqual(['alumnos_campus', 'alumnos_volver']);
  });

  it('when a number is typed, then it selects the Nth option of the current menu', () => {
    expect(run(conv(), text(' 3 ')).state).toMatchObject({ menu_actual: 'inscripciones' });
    expect(run(conv({ router_estado: 'submenu_alumnos', menu_actual: 'alumnos' }), text('2')).state).toMatchObject({
      router_estado: 'menu_principal',
    });
  });

  it('when a number is out of range or other text arrives, then the current menu is sent again', () => {
    const d = run(conv({ router_estado: 'submenu_alumnos', menu_actual: 'alumnos' }), text('7'));
    expect(d.outcome).toBe('menu_repeated');
    expect(d.state).toMatchObject({ menu_actual: 'alumnos' });
    expect(run(conv(), text('quiero info')).outcome).toBe('menu_repeated');
  });

  it('when a derivation option is tapped, then the conversation is derived with a ticket, a confirmation and an inbox notification', () => {
    const d = run(conv(), tap('administracion'));
    expect(d.outcome).toBe('derived');
    expect(d.state).toEqual({
      estado: 'derivada',
      router_estado: 'derivado',
      menu_actual: null,
      area: 'administracion',
    });
    expect(d.derivation).toMatchObject({
      area: { id: 'administracion' },
      fromArea: 'wsp4',
      reason: 'Consulta administrativa',
      optionSelected: 'administracion',
      course: null,
    });
    expect(d.replies.map((r) => r.preview)).toEqual(['Te derivamos con Administración. Ticket {ticket}.']);
    expect(d.notify).toMatchObject({ event: 'derivation', area: { inboxUrl: 'http://inbox.test/administracion' } });
  });

  it('when a derived conversation gets a message, then nothing is answered and it is forwarded to the area', () => {
    const d = run(derived(), text('¿me atienden?'));
    expect(d).toMatchObject({
      outcome: 'forwarded',
      replies: [],
      state: null,
      derivation: null,
      notify: { event: 'message', area: { id: 'administracion' } },
    });
  });

  it.each(['MENU', 'menú', '  Menu  ', 'atrás', 'ATRAS', 'Volver', '0'])(
    'when %j is written in a menu, then the main menu comes back',
    (cmd) => {
      const d = run(conv({ router_estado: 'submenu_alumnos', menu_actual: 'alumnos' }), text(cmd));
      expect(d.outcome).toBe('command_menu');
      expect(d.state).toMatchObject({ estado: 'activa', router_estado: 'menu_principal' });
    },
  );

  it.each(['MENU', '0', 'volver'])(
    'when %j is written while derived, then it goes to the agent like any message (the business removed the escape)',
    (cmd) => {
      const d = run(derived(), text(cmd));
      expect(d).toMatchObject({ outcome: 'forwarded', replies: [], state: null });
    },
  );

  it('when the line allows commands while derived, then a command brings the main menu back', () => {
    const d = run(derived(), text('MENU'), {
      line: line({ settings: { ...LINE.settings, commandsWhenDerived: true } }),
    });
    expect(d.outcome).toBe('command_menu');
  });

  it.each([
    ['desconectado_wsp4', { desconectado_wsp4: true }],
    ['desconectado_ventas_api', { desconectado_ventas_api: true }],
    ['inbox_fijo', { inbox_fijo: 'administracion', estado: 'nueva', router_estado: null, menu_actual: null }],
  ] as const)(
    'when the CRM disconnected the conversation (%s), then it is stored and forwarded, never answered',
    (_flag, patch) => {
      for (const m of [text('hola'), text('MENU'), tap('administracion')]) {
        const d = run(conv(patch), m);
        expect(d).toMatchObject({ outcome: 'forwarded_disconnected', replies: [], state: null, derivation: null });
      }
      expect(run(conv({ inbox_fijo: 'administracion' }), text('hola')).notify).toMatchObject({
        area: { id: 'administracion' },
      });
    },
  );

  it('when the line does not honour the disconnect flags, then the menu runs as usual', () => {
    const d = run(conv({ desconectado_wsp4: true }), tap('administracion'), {
      line: line({ settings: { ...LINE.settings, honourDisconnect: false } }),
    });
    expect(d.outcome).toBe('derived');
  });

  it('when the CRM closed the conversation and the customer writes, then it reopens at the main menu', () => {
    const d = run(derived({ estado: 'cerrada' }), text('hola de nuevo'));
    expect(d.outcome).toBe('reopened_menu');
    expect(d.state).toMatchObject({ estado: 'activa', router_estado: 'menu_principal' });
  });

  it('when the line keeps closed conversations silent (the old behaviour), then nothing is answered', () => {
    const d = run(derived({ estado: 'cerrada' }), text('hola'), {
      line: line({ settings: { ...LINE.settings, closedRestartsMenu: false } }),
    });
    expect(d).toMatchObject({ outcome: 'ignored', replies: [] });
  });

  it('when no recent message tells the last activity, then the window end the customer came back after decides', () => {
    const after = run(derived(), text('hola'), {
      recent: [prior('saliente', 60, 'bot')],
      previousWindowEnd: iso(3600),
    });
    expect(after.outcome).toBe('reentry_menu');
    const within = run(derived(), text('hola'), { recent: [], previousWindowEnd: iso(-3600) });
    expect(within.outcome).toBe('forwarded');
  });

  it('when a derived customer was silent (and the agent too) longer than the re-entry period, then it starts over at the menu', () => {
    const d = run(derived(), text('hola'), {
      recent: [prior('entrante', 25 * 3600), prior('saliente', 25 * 3600, 'agente')],
    });
    expect(d.outcome).toBe('reentry_menu');
  });

  it('when the agent wrote recently, then a long-silent customer stays with the area', () => {
    const d = run(derived(), text('hola'), {
      recent: [prior('saliente', 3600, 'agente'), prior('entrante', 30 * 3600)],
    });
    expect(d.outcome).toBe('forwarded');
  });

  it('when the same derivation is chosen again within the anti-loop period, then no second ticket is made', () => {
    const back = conv({ area: 'administracion', ts_ultima_derivacion: iso(5 * 60) });
    const d = run(back, tap('administracion'));
    expect(d.outcome).toBe('already_derived');
    expect(d.derivation).toBeNull();
    expect(d.replies[0]?.preview).toBe('Ya estás con Administración.');
  });

  it('when the anti-loop period has passed, then choosing the area again makes a new derivation', () => {
    const d = run(conv({ area: 'administracion', ts_ultima_derivacion: iso(20 * 60) }), tap('administracion'));
    expect(d.outcome).toBe('derived');
  });

  it('when a stale list tap arrives while derived, then it goes to the agent: no note, no ticket', () => {
    const d = run(derived({ ts_ultima_derivacion: iso(60) }), tap('administracion'));
    expect(d).toMatchObject({ outcome: 'forwarded', replies: [], derivation: null });
  });

  it('when a tap from an older menu arrives in another menu, then the current menu is repeated', () => {
    const d = run(conv({ router_estado: 'submenu_alumnos', menu_actual: 'alumnos' }), tap('comunidad'));
    expect(d.outcome).toBe('menu_repeated');
    expect(d.state).toMatchObject({ menu_actual: 'alumnos' });
  });

  it.each(['reaction', 'system', 'unsupported', 'revoke', 'edit'] as const)(
    'when a %s arrives, then it is stored and never answered',
    (type) => {
      const d = run(conv(), msg({ type, text: null }));
      expect(d.outcome).toBe('ignored');
      expect(d.replies).toEqual([]);
      expect(d.state).toBeNull();
    },
  );
});

describe('decide: dynamic course list', () => {
  const inCourses = (page: number) =>
    conv({
      router_estado: 'submenu_cursos',
      menu_actual: 'cursos',
      metadata: { cursos: { lanzador: 'inscripciones_cursos', pagina: page } },
    });
  const C = (n: number) => courses(13)[n - 1]!;

  it('when the course option is tapped, then page 1 of the list is sent', () => {
    const d = run(
      conv({ router_estado: 'submenu_inscripciones', menu_actual: 'inscripciones' }),
      tap('inscripciones_cursos'),
    );
    expect(d.outcome).toBe('courses_sent');
    expect(d.state).toMatchObject({
      router_estado: 'submenu_cursos',
      menu_actual: 'cursos',
      metadata: { cursos: { lanzador: 'inscripciones_cursos', pagina: 0 } },
    });
    expect(rowIds(d).length).toBeLessThanOrEqual(10);
    expect(rowIds(d)).toContain('ver_mas_cursos_p1');
  });

  it('when "next page" is tapped, then the next page is sent and the page is remembered', () => {
    const d = run(inCourses(0), tap('ver_mas_cursos_p1'));
    expect(d.state).toMatchObject({ menu_actual: 'cursos', metadata: { cursos: { pagina: 1 } } });
    expect(rowIds(d)).toContain(`curso_${C(13).id}`);
  });

  it('when a course is tapped, then the customer is derived to the launching option area with the course as sub-label', () => {
    const d = run(inCourses(1), tap(`curso_${C(12).id}`));
    expect(d.outcome).toBe('derived');
    expect(d.derivation).toMatchObject({
      area: { id: 'ventas' },
      subLabel: 'curso:C12',
      reason: 'Interesado en: Curso número 12 (C12)',
      optionSelected: `curso_${C(12).id}`,
      course: { code: 'C12' },
    });
  });

  it('when a number is typed on a course page, then it picks that row of the page', () => {
    const d = run(inCourses(0), text('2'));
    expect(d.derivation).toMatchObject({ subLabel: 'curso:C2' });
  });

  it('when "back" is tapped, then the main menu is sent', () => {
    expect(run(inCourses(1), tap('volver')).state).toMatchObject({ router_estado: 'menu_principal' });
  });

  it('when there are no courses, then the no-courses text is sent', () => {
    const d = run(
      conv({ router_estado: 'submenu_inscripciones', menu_actual: 'inscripciones' }),
      tap('inscripciones_cursos'),
      { catalog: catalog({ courses: courses(0) }) },
    );
    expect(d.replies[0]?.content).toEqual({ kind: 'text', body: 'No hay cursos.' });
  });
});

describe('decide: inbox line', () => {
  const inbox = line({ code: 'administracion', flow: 'inbox' });

  it('when an unknown contact writes, then it gets the note once and the time is remembered', () => {
    const d = fresh(text('hola'), { line: inbox });
    expect(d.outcome).toBe('inbox_note');
    expect(d.replies[0]?.preview).toBe('Escribinos al número principal.');
    // Beside it, the reply limits' record of the last reply (reply-limits.ts).
    expect(d.state).toEqual({
      metadata: {
        nota_inbox_at: new Date(T * 1000).toISOString(),
        router_ultima_respuesta: { huella: expect.any(String), at: new Date(T * 1000).toISOString() },
      },
    });
  });

  it('when the note was sent within the cooldown, then nothing is answered', () => {
    const d = run(conv({ metadata: { nota_inbox_at: iso(3600) } }), text('hola?'), { line: inbox });
    expect(d).toMatchObject({ outcome: 'inbox_stored', replies: [], state: null });
  });

  it('when the cooldown has passed, then the note is sent again', () => {
    expect(run(conv({ metadata: { nota_inbox_at: iso(25 * 3600) } }), text('hola?'), { line: inbox }).outcome).toBe(
      'inbox_note',
    );
  });

  it('when the contact is known (another line, or an agent talked to them), then nothing is answered', () => {
    expect(fresh(text('hola'), { line: inbox, knownElsewhere: true }).outcome).toBe('inbox_stored');
    expect(run(conv(), text('hola'), { line: inbox, recent: [prior('saliente', 60, 'agente')] }).outcome).toBe(
      'inbox_stored',
    );
  });
});

describe('decide: Evolution lines (inbox flow)', () => {
  const evo = line({ code: 'alumnos', flow: 'inbox', kind: 'evolution' });

  it("when a customer writes, then the message goes to the conversation area's inbox beside the note", () => {
    const d = fresh(text('hola'), { line: evo, conversation: conv({ area: 'alumnos' }) });
    expect(d.notify).toMatchObject({ area: { id: 'alumnos' }, event: 'message' });
    expect(d.outcome).toBe('inbox_note');
  });

  it('when the area has no inbox URL, then nothing is forwarded', () => {
    expect(run(conv({ area: 'comunidad' }), text('hola'), { line: evo }).notify).toBeNull();
  });

  it('when staff write from the line phone or a group writes, then nothing is answered or forwarded', () => {
    for (const m of [msg({ text: 'listo', fromMe: true }), msg({ text: 'hola grupo', group: true })]) {
      const d = fresh(m, { line: evo });
      expect(d).toMatchObject({ outcome: 'ignored', replies: [], notify: null, state: null });
    }
  });
});
