import { describe, expect, it } from 'vitest';
import type { AdCourse, AdOption, AdsCatalog } from '../../../../src/routing/ads/ads-types.js';
import { decideAds, type AdsInput } from '../../../../src/routing/ads/decide-ads.js';
import type { ConversationState } from '../../../../src/routing/decide.js';
import { META_LIMITS, type OutboundContent } from '../../../../src/routing/types.js';
import type { InboundMessageEvent } from '../../../../src/webhook/inbound-event.js';
import { adCourse } from '../../../fixtures/routing/ads-catalog.js';
import { catalog, line } from '../../../fixtures/routing/catalog.js';
import { inboundEvent, tapEvent } from '../../../fixtures/routing/inbound-event.js';

const T = 1_790_000_000;
const option = (courseId: string, n: number, type: AdOption['type'] = 'info'): AdOption => ({
  id: `${courseId}-op${n}`,
  courseId,
  order: n,
  emoji: '📌',
  title: `Opción ${n}`,
  subtitle: null,
  type,
  infoField: 'info_precio',
  customReply: null,
  showMenuAfter: false,
  derivationMessage: null,
});
const course = (id: string, options: number): AdCourse =>
  adCourse(id, id.toUpperCase(), `Curso ${id} con un nombre muy largo que no entra en la cabecera de WhatsApp`, {
    greeting: 'Hola',
    fields: { info_precio: `Precio de ${id}` },
    options: Array.from({ length: options }, (_, i) => option(id, i + 1, i === options - 1 ? 'inscribir' : 'info')),
  });
const ADS: AdsCatalog = {
  courses: new Map([course('a', 14), course('b', 2)].map((c) => [c.id, c])),
  ads: new Map([['AD1', { id: 'cfg1', adId: 'AD1', courseId: 'a', name: 'Anuncio A' }]]),
  cohorts: [],
};
const CONV: ConversationState = {
  estado: 'activa',
  router_estado: 'ads_menu',
  menu_actual: null,
  area: 'ventas_api',
  ts_ultima_derivacion: null,
  ticket_id: null,
  metadata: { ads: { curso: 'a', tipo: null, pagina: 1, origen: 'ctwa' } },
  desconectado_wsp4: true,
  desconectado_ventas_api: false,
  inbox_fijo: 'ventas_api',
};
const msg = (o: Partial<InboundMessageEvent>): InboundMessageEvent => inboundEvent({ timestamp: T, ...o });
const tap = (id: string) => tapEvent(id, 'list_reply', { timestamp: T });
const input = (message: InboundMessageEvent, conversation: ConversationState = CONV): AdsInput => ({
  line: line({ code: 'ventas_api', flow: 'ads' }),
  conversation,
  created: false,
  previousWindowEnd: null,
  message,
  recent: [],
  knownElsewhere: false,
  catalog: catalog(),
  ads: ADS,
  sessions: [
    { id: 's', courseId: 'a', estado: 'activo', origen: 'ctwa', adConfigId: 'cfg1', adId: 'AD1', ctwaClid: 'c' },
  ],
});
const rowsOf = (c: OutboundContent) => (c.kind === 'list' ? c.sections.flatMap((s) => s.rows.map((r) => r.id)) : []);

describe('the ads funnel decision', () => {
  it('when a course has 14 options, then its list is paginated within Meta’s 10 rows and the header within 60 characters (§D15)', () => {
    const d = decideAds(
      input(
        msg({
          referral: {
            sourceId: 'AD1',
            sourceType: 'ad',
            sourceUrl: null,
            headline: null,
            body: null,
            mediaType: null,
            ctwaClid: 'c',
          },
        }),
        { ...CONV, router_estado: null, metadata: {} },
      ),
    );
    expect(d.outcome).toBe('ad_entry');
    const list = d.replies.at(-1)!.content;
    expect(list.kind).toBe('list');
    expect(rowsOf(list)).toHaveLength(META_LIMITS.listRowsTotal - 1); // 8 options + "more"
    expect(rowsOf(list).at(-1)).toBe('opciones_a_p2');
    if (list.kind === 'list') expect(list.header!.length).toBeLessThanOrEqual(META_LIMITS.headerText);
    expect(d.flow?.adEntry).toEqual({ configId: 'cfg1', adId: 'AD1', name: 'Anuncio A' });

    const page2 = decideAds(input(tap('opciones_a_p2')));
    expect(rowsOf(page2.replies[0]!.content)).toEqual([
      ...Array.from({ length: 6 }, (_, i) => `a-op${i + 9}`),
      'opciones_a_p1',
    ]);
    expect(page2.flow?.tap ?? null).toBeNull();
  });

  it('when a tap names an option of another course, an older step, or an unknown id, then the current menu is sent and nothing is executed (§D14)', () => {
    for (const id of ['b-op1', 'tipo_curso', 'curso_b', 'whatever']) {
      const d = decideAds(input(tap(id)));
      expect(d.outcome, id).toBe('stale_tap');
      expect(d.flow?.tap ?? null, id).toBeNull();
      expect(d.flow?.session ?? null, id).toBeNull();
      expect(d.derivation, id).toBeNull();
    }
  });

  it('when the lead taps an info option of its course, then the course field answers and one tap row with the ad’s attribution is written', () => {
    const d = decideAds(input(tap('a-op1')));
    expect(d.replies.map((r) => r.preview)).toEqual(['Precio de a']);
    expect(d.flow?.tap).toMatchObject({
      optionId: 'a-op1',
      adConfigId: 'cfg1',
      adId: 'AD1',
      ctwaClid: 'c',
      answered: true,
      derived: false,
    });
    expect(d.flow?.session).toMatchObject({ courseId: 'a', origen: 'ctwa', interaction: true, estado: 'activo' });
  });

  it('when an agent closed the conversation, then the next message ends the open sessions and starts over with the buttons', () => {
    const d = decideAds(input(msg({ text: 'hola de nuevo' }), { ...CONV, estado: 'cerrada' }));
    expect(d.outcome).toBe('ads_buttons');
    expect(d.flow?.finishSessions).toBe(true);
  });

  it('when the conversation is derived, then taps and texts are stored for the agent, never executed', () => {
    const derived = { ...CONV, estado: 'derivada', router_estado: 'derivado' };
    for (const m of [tap('a-op14'), msg({ text: 'hola' })]) {
      const d = decideAds(input(m, derived));
      expect(d.outcome).toBe('forwarded');
      expect(d.replies).toEqual([]);
      expect(d.flow ?? null).toBeNull();
    }
  });
});
