import { describe, expect, it } from 'vitest';
import { completionStatement } from '../../../src/store/completion-statement.js';
import type { RoutingWrites } from '../../../src/store/routing-writes.js';
import type { SchemaProfile } from '../../../src/store/schema-profile.js';

const profile: SchemaProfile = {
  unreadByTrigger: false,
  unreadTrigger: null,
  derivationTicket: 'id',
  derivationTicketType: 'uuid',
  auditRecordType: 'uuid',
};

const writes: RoutingWrites = {
  conversationId: '00000000-0000-4000-8000-000000000001',
  at: '2026-12-01T12:00:00.000Z',
  line: '1000',
  lineCode: 'wsp4',
  to: '5491100000000',
  phone: '+5491100000000',
  inReplyTo: 'wamid.X',
  botName: 'Router WSP4',
  state: { estado: 'activa' },
  derivation: null,
  replies: [],
  notify: null,
};

/** Every `$n` the text uses, in first-use order. */
const placeholders = (text: string): number[] => [...new Set([...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))];

describe('completion statement', () => {
  const cases = [
    { name: 'bare', c: {} },
    { name: 'with routing writes', c: { writes } },
    { name: 'with a media job', c: { mediaJob: true } },
    { name: 'with both', c: { writes, mediaJob: true } },
  ];
  for (const { name, c } of cases) {
    it(`${name}: numbers its parameters 1..n with one value each, and leaves no template marker behind`, () => {
      const st = completionStatement({ eventId: '7', convKey: 'k', owner: 'o', ...c }, profile);
      const used = placeholders(st.text).sort((a, b) => a - b);
      expect(used).toEqual(st.values.map((_, i) => i + 1));
      expect(st.text).not.toMatch(/\$[A-Z]/);
    });
  }

  it('carries the routing writes as one jsonb value, and only when there are any', () => {
    const bare = completionStatement({ eventId: '7', convKey: 'k', owner: 'o' }, profile);
    const full = completionStatement({ eventId: '7', convKey: 'k', owner: 'o', writes }, profile);
    expect(bare.values).toEqual(['7', 'k', 'o']);
    expect(bare.text).not.toContain('INSERT INTO tickets');
    expect(full.values).toHaveLength(4);
    expect(JSON.parse(full.values[3] as string)).toEqual(writes);
    expect(full.text).toContain('$4::jsonb');
  });

  it('shapes the ticket reference by the live schema', () => {
    const byHumanId = completionStatement(
      { eventId: '7', convKey: 'k', owner: 'o', writes },
      { ...profile, derivationTicket: 'ticket_id', derivationTicketType: 'text' },
    );
    expect(byHumanId.text).toContain('tk.ticket_id,');
    expect(completionStatement({ eventId: '7', convKey: 'k', owner: 'o', writes }, profile).text).toContain(
      'tk.id::uuid',
    );
  });
});
