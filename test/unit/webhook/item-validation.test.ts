import { describe, expect, it } from 'vitest';
import type { InboundEvent, InboundMessageEvent, OtherEvent, StatusEvent } from '../../../src/webhook/inbound-event.js';
import { MAX_BYTES } from '../../../src/webhook/item-limits.js';
import { parseWebhookBody } from '../../../src/webhook/parse-events.js';
import { isWellFormedDeep, mayHoldSurrogates, toWellFormedDeep } from '../../../src/webhook/well-formed.js';
import {
  bodyOf,
  contact,
  envelope,
  inboundEnvelope,
  messagesChange,
  nextWamid,
  statusItem,
  textMessage,
} from '../../fixtures/whatsapp/builders.js';

const RECEIVED_MS = 1_790_000_000_500;
const parse = (payload: unknown): InboundEvent[] => parseWebhookBody(bodyOf(payload), RECEIVED_MS);
const reasons = (events: InboundEvent[]) => events.map((e) => (e.kind === 'other' ? e.reason : e.kind));

describe('item validation: what the journal and the indexes can hold', () => {
  it.each([
    ['99999999999999', 'malformed_message: invalid timestamp'],
    ['0', 'malformed_message: invalid timestamp'],
    ['9'.repeat(400), 'malformed_message: invalid timestamp'],
    ['1780000000', 'message'],
  ])('when a message is dated %s, then it is %s', (timestamp, expected) => {
    expect(reasons(parse(inboundEnvelope(textMessage({ timestamp }))))).toEqual([expected]);
  });

  it('when from, from_user_id or the wamid are longer than their index bound, then each such item is other and the rest parse', () => {
    const events = parse(
      envelope(
        messagesChange({
          contacts: [contact()],
          messages: [
            textMessage({ from: '5'.repeat(MAX_BYTES.from + 1), id: nextWamid() }),
            textMessage({ from: '5'.repeat(MAX_BYTES.from) }),
            textMessage({ fromUserId: `AR.${'x'.repeat(MAX_BYTES.userId)}` }),
            textMessage({ id: `wamid.${'A'.repeat(MAX_BYTES.wamid)}` }),
            textMessage(),
          ],
        }),
      ),
    );
    expect(reasons(events)).toEqual([
      'malformed_message: invalid from',
      'message',
      'malformed_message: invalid from_user_id',
      'malformed_message: invalid id',
      'message',
    ]);
  });

  it('when the byte bound is reached with multi-byte characters, then it counts bytes, not characters', () => {
    const id = `wamid.${'ñ'.repeat(MAX_BYTES.wamid / 2)}`; // 2 bytes each: over the bound in bytes, under it in characters
    expect(reasons(parse(inboundEnvelope(textMessage({ id }))))).toEqual(['malformed_message: invalid id']);
  });

  it('when the text holds a lone surrogate, then the item is other and its kept value has U+FFFD instead', () => {
    const [event] = parse(inboundEnvelope(textMessage({ body: 'a\ud800b' })));
    expect(event?.kind).toBe('other');
    const other = event as OtherEvent;
    expect(other.reason).toMatch(/ill-formed unicode/);
    expect((other.value as { text: { body: string } }).text.body).toBe('a\ufffdb');
    expect(isWellFormedDeep(other)).toBe(true);
  });

  it('when an emoji arrives as an escaped surrogate pair, then it is a well-formed message', () => {
    const raw = JSON.stringify(inboundEnvelope(textMessage({ body: 'x' }))).replace(
      '"body":"x"',
      '"body":"\\ud83c\\udf93"',
    );
    expect(mayHoldSurrogates(raw)).toBe(true);
    const [event] = parseWebhookBody(Buffer.from(raw), RECEIVED_MS);
    expect(event?.kind === 'message' && event.text).toBe('🎓');
  });

  it('when a status has a lone surrogate or an oversized status word, then it is other', () => {
    const events = parse(
      envelope(
        messagesChange({
          statuses: [
            statusItem({ status: 'read\udfff' }),
            statusItem({ status: 'x'.repeat(MAX_BYTES.status + 1) }),
            statusItem(),
          ],
        }),
      ),
    );
    expect(reasons(events)).toEqual([
      'malformed_status: ill-formed unicode (lone surrogate)',
      'malformed_status: invalid status',
      'status',
    ]);
  });

  it('when a plain body has no surrogate escapes, then nothing needs walking', () => {
    expect(mayHoldSurrogates(JSON.stringify(inboundEnvelope(textMessage({ body: 'hola ñandú 🎓' }))))).toBe(false);
  });

  it('when toWellFormedDeep meets lone surrogates in keys, values and arrays, then it replaces each and keeps pairs', () => {
    expect(toWellFormedDeep({ 'a\ud800': ['\udc00x', '🎓', 1, null], ok: { deep: 'y\ud83d' } })).toEqual({
      'a\ufffd': ['\ufffdx', '🎓', 1, null],
      ok: { deep: 'y\ufffd' },
    });
  });
});

describe('a WhatsApp time in the future', () => {
  const receivedS = RECEIVED_MS / 1000;

  it('when a message is dated after the receive time, then its timestamp is the receive time and Meta’s is kept', () => {
    const [event] = parse(inboundEnvelope(textMessage({ timestamp: 4_102_444_800 }))); // 2100-01-01
    const m = event as InboundMessageEvent;
    expect(m.kind).toBe('message');
    expect(m.timestamp).toBe(receivedS);
    expect(m.metaTimestamp).toBe(4_102_444_800);
  });

  it('when a message is dated at or before the receive time, then its time is Meta’s and nothing is added', () => {
    const events = parse(
      envelope(
        messagesChange({
          contacts: [contact()],
          messages: [textMessage({ timestamp: 1_790_000_000 }), textMessage({ timestamp: 1_700_000_000 })],
        }),
      ),
    );
    expect(events.map((e) => (e as InboundMessageEvent).timestamp)).toEqual([1_790_000_000, 1_700_000_000]);
    expect(events.every((e) => !('metaTimestamp' in e))).toBe(true);
  });

  it('when a status is dated after the receive time, then the receive time stands in for it too', () => {
    const [event] = parse(envelope(messagesChange({ statuses: [statusItem({ timestamp: 1_790_000_100 })] })));
    expect(event as StatusEvent).toMatchObject({ kind: 'status', timestamp: receivedS, metaTimestamp: 1_790_000_100 });
  });
});
