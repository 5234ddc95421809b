import { describe, expect, it } from 'vitest';
import { decide, type ConversationState, type PriorMessage, type RoutingInput } from '../../../src/routing/decide.js';
import { LAST_REPLY_KEY } from '../../../src/routing/reply-limits.js';
import type { Catalog } from '../../../src/routing/types.js';
import type { InboundMessageEvent } from '../../../src/webhook/inbound-event.js';
import { catalog, line } from '../../fixtures/routing/catalog.js';
import { inboundEvent, tapEvent } from '../../fixtures/routing/inbound-event.js';

const T = 1_790_000_000;
const iso = (secondsBefore: number) => new Date((T - secondsBefore) * 1000).toISOString();

const msg = (o: Partial<InboundMessageEvent> = {}): InboundMessageEvent => inboundEvent({ timestamp: T, ...o });
const text = (t: string, secondsAfter = 0) => msg({ text: t, timestamp: T + secondsAfter });
const tap = (id: string) => tapEvent(id, 'list_reply', { timestamp: T });
const conv = (o: Partial<ConversationState> = {}): ConversationState => ({
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
});
const customer = (secondsBefore: number, n = secondsBefore): PriorMessage => ({
  direccion: 'entrante',
  remitente_tipo: 'contacto',
  whatsapp_message_id: `wamid.C${n}`,
  timestamp: iso(secondsBefore),
});
const bot = (secondsBefore: number): PriorMessage => ({
  direccion: 'saliente',
  remitente_tipo: 'bot',
  whatsapp_message_id: `wamid.B${secondsBefore}`,
  timestamp: iso(secondsBefore),
});

function withSettings(o: Partial<Catalog['settings']>): Catalog {
  const c = catalog();
  return { ...c, settings: { ...c.settings, ...o } };
}
const run = (c: ConversationState, m: InboundMessageEvent, o: Partial<RoutingInput> = {}) =>
  decide({
    line: line(),
    conversation: c,
    created: false,
    previousWindowEnd: null,
    message: m,
    recent: [customer(120)],
    knownElsewhere: false,
    catalog: catalog(),
    ...o,
  });
/** The conversation as the store leaves it after `d` was committed. */
const after = (c: ConversationState, d: ReturnType<typeof run>): ConversationState => ({
  ...c,
  ...d.state,
  metadata: { ...c.metadata, ...d.state?.metadata },
});

describe('reply limits: the same reply twice in a short period', () => {
  it('when a text repeats the menu the router sent 30 s before, then nothing is sent and the state stays', () => {
    const first = run(conv(), text('quiero info'));
    expect(first.outcome).toBe('menu_repeated');
    expect(first.replies).toHaveLength(1);
    expect(first.state?.metadata?.[LAST_REPLY_KEY]).toEqual({
      huella: expect.stringMatching(/^[0-9a-f]{16}$/),
      at: iso(0),
    });

    const second = run(after(conv(), first), text('???', 30));
    expect(second).toMatchObject({ outcome: 'repeat_suppressed', replies: [], derivation: null });
    expect(second.state).toMatchObject({ router_estado: 'menu_principal', menu_actual: 'principal' });
  });

  it('when the same menu comes due after the period, then it is sent again and the period starts over', () => {
    const first = run(conv(), text('quiero info'));
    const later = run(after(conv(), first), text('hola?', 61));
    expect(later.outcome).toBe('menu_repeated');
    expect(later.replies).toHaveLength(1);
    expect(later.state?.metadata?.[LAST_REPLY_KEY]).toMatchObject({ at: new Date((T + 61) * 1000).toISOString() });
  });

  it('when suppressed repeats keep coming, then the period still runs from the reply actually sent', () => {
    const first = run(conv(), text('a'));
    const state = after(conv(), first);
    const s1 = run(state, text('b', 40));
    expect(s1.outcome).toBe('repeat_suppressed');
    // s1 changed nothing of the record: 70 s after the sent menu it goes out again.
    expect(run(after(state, s1), text('c', 70)).replies).toHaveLength(1);
  });

  it('when the reply differs (a submenu, then the main menu again), then each is sent', () => {
    const main = run(conv(), text('x'));
    const sub = run(after(conv(), main), { ...tap('alumnos'), timestamp: T + 5 });
    expect(sub.outcome).toBe('submenu_sent');
    expect(sub.replies).toHaveLength(1);
    const back = run(after(after(conv(), main), sub), { ...tap('alumnos_volver'), timestamp: T + 10 });
    expect(back.replies).toHaveLength(1);
  });

  it('when a derivation follows a menu, then its confirmation is never suppressed', () => {
    const main = run(conv(), text('x'));
    const d = run(after(conv(), main), { ...tap('administracion'), timestamp: T + 5 });
    expect(d.outcome).toBe('derived');
    expect(d.replies).toHaveLength(1);
  });

  it('when REPLY_REPEAT_SECONDS is 0, then identical menus are sent every time', () => {
    const cat = withSettings({ replyRepeatMs: 0 });
    const first = run(conv(), text('a'), { catalog: cat });
    expect(run(after(conv(), first), text('b', 1), { catalog: cat }).replies).toHaveLength(1);
  });
});

describe('reply limits: a sender faster than a person', () => {
  const burst = (n: number, everySeconds: number) =>
    Array.from({ length: n }, (_, i) => customer((i + 1) * everySeconds));

  it('when this is the 6th customer message within 10 s, then nothing is answered and nothing changes', () => {
    const d = run(conv(), text('spam'), { recent: burst(5, 1) });
    expect(d).toEqual({
      outcome: 'flood_silenced',
      state: null,
      replies: [],
      derivation: null,
      notify: null,
      warnings: [],
    });
  });

  it('when a derivation option is tapped within a flood, then no ticket is made', () => {
    const d = run(conv(), tap('administracion'), { recent: burst(5, 1) });
    expect(d).toMatchObject({ outcome: 'flood_silenced', derivation: null, replies: [], state: null });
  });

  it('when 5 messages came within 10 s, then the 5th is still answered (a person typing fast)', () => {
    expect(run(conv(), text('hola'), { recent: burst(4, 2) }).replies).toHaveLength(1);
  });

  it('when the earlier messages are spread over more than the period, then answers resume', () => {
    expect(run(conv(), text('hola'), { recent: burst(9, 3) }).outcome).not.toBe('flood_silenced');
  });

  it('when the router answered in between, then only the customer’s messages count', () => {
    const interleaved = [
      bot(0.5),
      customer(1),
      bot(1.5),
      customer(2),
      bot(2.5),
      customer(3),
      bot(3.5),
      customer(4),
      bot(4.5),
      customer(5),
    ];
    expect(run(conv(), text('x'), { recent: interleaved }).outcome).toBe('flood_silenced');
    expect(run(conv(), text('x'), { recent: interleaved.slice(0, 8) }).outcome).not.toBe('flood_silenced');
  });

  it('when an agent’s conversation is flooded, then its messages still reach the inbox and nothing is answered', () => {
    const derived = conv({
      estado: 'derivada',
      router_estado: 'derivado',
      menu_actual: null,
      area: 'administracion',
      ts_ultima_derivacion: iso(3600),
      ticket_id: 'TKT-1',
    });
    const d = run(derived, text('hola?'), { recent: burst(8, 1) });
    expect(d).toMatchObject({
      outcome: 'forwarded',
      replies: [],
      notify: { event: 'message', area: { id: 'administracion' } },
    });
  });

  it('when REPLY_FLOOD_MESSAGES is 0, then nothing is silenced', () => {
    expect(
      run(conv(), text('x'), { recent: burst(10, 0.1), catalog: withSettings({ floodMessages: 0 }) }).replies,
    ).toHaveLength(1);
  });
});
