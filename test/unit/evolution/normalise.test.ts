import { describe, expect, it } from 'vitest';
import { parseEvolutionBody } from '../../../src/evolution/parse-body.js';
import { flatBody, rawAck, rawConnection, rawUpsert } from '../../../src/simulator/evolution/payloads.js';
import type { InboundMessageEvent, StatusEvent } from '../../../src/webhook/inbound-event.js';

const LINE = { code: 'ventas', instance: 'psi-ventas', receivedAtMs: 1_780_000_100_000 };
const parse = (body: Record<string, unknown>) => parseEvolutionBody(body, Buffer.from(JSON.stringify(body)), LINE);
const message = (body: Record<string, unknown>) => parse(body).events[0] as InboundMessageEvent;

describe('Evolution normalisation', () => {
  it('when a raw upsert arrives, then it is the Cloud message event with a namespaced id on the evo: sender', () => {
    const e = message(
      rawUpsert({
        instance: 'psi-ventas',
        from: '5491155550001',
        id: 'ABC',
        text: 'hola',
        pushName: 'Ana',
        timestamp: 1_780_000_000,
      }),
    );
    expect(e).toMatchObject({
      kind: 'message',
      wamid: 'evo:psi-ventas:ABC',
      line: { phoneNumberId: 'evo:ventas', wabaId: 'psi-ventas', displayPhoneNumber: '5491100000000' },
      from: '5491155550001',
      profileName: 'Ana',
      type: 'text',
      text: 'hola',
      timestamp: 1_780_000_000,
    });
    expect(e.fromMe).toBeUndefined();
  });

  it('when the top-level sender equals the customer or not, then the customer still comes from the key', () => {
    const e = message(
      rawUpsert({ instance: 'psi-ventas', from: '5491155550001', lineNumber: '5491100000042', text: 'x' }),
    );
    expect(e.from).toBe('5491155550001');
    expect(e.line.displayPhoneNumber).toBe('5491100000042');
  });

  it('when a @lid chat comes with or without its phone, then the phone comes only from remoteJidAlt or senderPn', () => {
    const withAlt = message(rawUpsert({ instance: 'i', from: '111@lid', remoteJidAlt: '5491155550002', text: 'x' }));
    expect([withAlt.from, withAlt.userId]).toEqual(['5491155550002', '111@lid']);
    const body = rawUpsert({ instance: 'i', from: '222@lid', text: 'x' });
    ((body['data'] as Record<string, unknown>)['key'] as Record<string, unknown>)['senderPn'] =
      '5491155550003@s.whatsapp.net';
    expect(message(body).from).toBe('5491155550003');
    const alone = message(rawUpsert({ instance: 'i', from: '333@lid', text: 'x' }));
    expect([alone.from, alone.userId]).toEqual([null, '333@lid']);
  });

  it('when data is an array, captions, documents, quotes (in the message or at data.contextInfo) and reactions, then each is read', () => {
    const batch = rawUpsert({
      instance: 'i',
      from: '5491155550001',
      asArray: true,
      message: { imageMessage: { caption: 'foto', mimetype: 'image/jpeg; x' }, base64: 'AAAA' },
    });
    const parsed = parse(batch);
    expect(parsed.events[0]).toMatchObject({
      type: 'image',
      text: 'foto',
      media: { mimeType: 'image/jpeg', caption: 'foto' },
    });
    expect([...parsed.media.values()]).toEqual([{ url: null, base64: 'AAAA' }]);
    const doc = message(
      rawUpsert({
        instance: 'i',
        from: '5491155550001',
        message: { documentWithCaptionMessage: { message: { documentMessage: { fileName: 'a.pdf' } } } },
      }),
    );
    expect([doc.type, doc.text, doc.media?.filename]).toEqual(['document', 'a.pdf', 'a.pdf']);
    const quoted = message(rawUpsert({ instance: 'i', from: '5491155550001', text: 'sí', quotedId: 'Q1' }));
    expect(quoted.context?.messageId).toBe('evo:psi-ventas:Q1');
    const newer = rawUpsert({ instance: 'i', from: '5491155550001', text: 'sí' });
    (newer['data'] as Record<string, unknown>)['contextInfo'] = { stanzaId: 'Q2' };
    expect(message(newer).context?.messageId).toBe('evo:psi-ventas:Q2');
    const reaction = message(
      rawUpsert({ instance: 'i', from: '5491155550001', message: { reactionMessage: { key: { id: 'T' }, text: '' } } }),
    );
    expect([reaction.type, reaction.reaction]).toEqual(['reaction', { messageId: 'evo:psi-ventas:T', emoji: null }]);
  });

  it('when staff write from the phone or a group writes, then they are flagged and no name is taken from them', () => {
    const mine = message(
      rawUpsert({ instance: 'i', from: '5491155550001', text: 'x', fromMe: true, pushName: 'Staff' }),
    );
    expect([mine.fromMe, mine.profileName]).toEqual([true, null]);
    const group = message(rawUpsert({ instance: 'i', from: '1203@g.us', participant: '5491155550001', text: 'x' }));
    expect([group.group, group.from, group.userId, group.profileName]).toEqual([true, null, '1203@g.us', null]);
  });

  it('when a flat n8n body arrives, then it is the same event as the raw one (same id, phone, text)', () => {
    const flat = message(
      flatBody({ telefono: '+54 9 11 5555-0001', mensaje: 'hola', nombre: 'Ana', messageId: 'ABC' }),
    );
    expect(flat).toMatchObject({
      wamid: 'evo:psi-ventas:ABC',
      from: '5491155550001',
      text: 'hola',
      profileName: 'Ana',
    });
    const reaction = message(flatBody({ telefono: '5491155550001', reactionTo: 'T', emoji: '👍' }));
    expect(reaction.reaction).toEqual({ messageId: 'evo:psi-ventas:T', emoji: '👍' });
  });

  it('when acks and other events arrive, then acks of our sends are statuses and the rest is kept unprocessed', () => {
    const ack = parse(rawAck('psi-ventas', 'K1', '5491155550001', 'DELIVERY_ACK')).events[0] as StatusEvent;
    expect(ack).toMatchObject({ kind: 'status', wamid: 'evo:psi-ventas:K1', status: 'delivered' });
    const connection = parse(rawConnection('psi-ventas', 'close'));
    expect(connection.connection).toBe('close');
    expect(connection.events[0]).toMatchObject({ kind: 'other', reason: 'evolution_connection' });
    const other = parse(rawUpsert({ instance: 'i', from: '5491155550001', text: 'x' }));
    expect(JSON.stringify(parse({ ...rawConnection('i', 'open'), apikey: 'instance-token' }).events)).not.toContain(
      'instance-token',
    );
    expect(other.events).toHaveLength(1);
  });
});
