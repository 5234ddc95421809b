import { describe, expect, it } from 'vitest';
import type { InboundEvent, InboundMessageEvent, StatusEvent } from '../../../src/webhook/inbound-event.js';
import { normaliseEnvelope, parseWebhookBody } from '../../../src/webhook/parse-events.js';
import { parseEnvelope } from '../../../src/webhook/payload-schema.js';
import {
  CUSTOMER_USER_ID,
  DISPLAY_PHONE_NUMBER,
  PHONE_NUMBER_ID,
  WABA_ID,
  bodyOf,
  contact,
  entry,
  envelope,
  envelopeOfEntries,
  imageMessage,
  inboundEnvelope,
  messagesChange,
  metaError,
  otherFieldChange,
  statusItem,
  textMessage,
} from '../../fixtures/whatsapp/builders.js';

const parse = (payload: unknown): InboundEvent[] => parseWebhookBody(bodyOf(payload));
const messagesOf = (events: InboundEvent[]) => events.filter((e): e is InboundMessageEvent => e.kind === 'message');
const statusesOf = (events: InboundEvent[]) => events.filter((e): e is StatusEvent => e.kind === 'status');

describe('parseWebhookBody: walking the whole batch', () => {
  it('when 3 entries × 2 changes × 5 messages plus statuses arrive, then all 30 messages and all statuses come out in order', () => {
    const sentIds: string[] = [];
    const statusIds: string[] = [];
    const entries = ['111', '222', '333'].map((wabaId, e) =>
      entry(
        [0, 1].map((c) => {
          const phone = `54911555500${e}${c}`;
          const messages = [0, 1, 2, 3, 4].map((i) => textMessage({ from: phone, body: `m${e}${c}${i} ñ 🎓` }));
          sentIds.push(...messages.map((m) => m.id));
          const statuses = [statusItem({ status: 'sent' }), statusItem({ status: 'read' })];
          statusIds.push(...statuses.map((s) => s['id'] as string));
          return messagesChange({
            phoneNumberId: `10654035224292${c}`,
            contacts: [contact({ waId: phone })],
            messages,
            statuses,
          });
        }),
        wabaId,
      ),
    );
    const events = parse(envelopeOfEntries(...entries));

    const messages = messagesOf(events);
    expect(messages).toHaveLength(30);
    expect(messages.map((m) => m.wamid)).toEqual(sentIds);
    expect(new Set(messages.map((m) => m.wamid)).size).toBe(30);
    expect(messages[29]?.text).toBe('m214 ñ 🎓');
    expect(messages[29]?.line).toEqual({
      phoneNumberId: '106540352242921',
      displayPhoneNumber: DISPLAY_PHONE_NUMBER,
      wabaId: '333',
    });
    expect(messages[7]?.from).toBe('5491155550001');

    const statuses = statusesOf(events);
    expect(statuses.map((s) => s.wamid)).toEqual(statusIds);
    expect(statuses.map((s) => s.status).slice(0, 2)).toEqual(['sent', 'read']);
    expect(events).toHaveLength(30 + 12);
  });

  it('when a message item has no id, then it becomes kind other while its siblings still parse', () => {
    const good1 = textMessage({ body: 'primero' });
    const broken: Record<string, unknown> = { ...textMessage({ body: 'sin id' }) };
    delete broken['id'];
    const good2 = imageMessage({ caption: 'tercero' });
    const events = parse(envelope(messagesChange({ contacts: [contact()], messages: [good1, broken, good2] })));

    expect(events.map((e) => e.kind)).toEqual(['message', 'other', 'message']);
    const other = events[1];
    expect(other?.kind === 'other' && other.reason).toBe('malformed_message: invalid id');
    expect(other?.kind === 'other' && other.value).toEqual(broken);
    expect(messagesOf(events).map((m) => m.text)).toEqual(['primero', 'tercero']);
  });

  it('when a message item has no timestamp, is not an object, or has no sender, then each is kind other', () => {
    const noTimestamp: Record<string, unknown> = { ...textMessage() };
    delete noTimestamp['timestamp'];
    const noSender = textMessage({ from: null });
    const events = parse(envelope(messagesChange({ messages: [noTimestamp, 'garbage', noSender, textMessage()] })));
    const reasons = events.map((e) => (e.kind === 'other' ? e.reason : e.kind));
    expect(reasons).toEqual([
      'malformed_message: invalid timestamp',
      'malformed_message: not an object',
      'malformed_message: no sender (neither from nor user id)',
      'message',
    ]);
  });

  it('when the sender is username-only (no from, user id on the contact), then from is null and userId is set', () => {
    const m = textMessage({ from: null, fromUserId: CUSTOMER_USER_ID, body: 'hola 👋' });
    const events = parse(
      envelope(
        messagesChange({
          contacts: [contact({ waId: null, userId: CUSTOMER_USER_ID, name: 'Lu', username: '@lu.fernandez' })],
          messages: [m],
        }),
      ),
    );
    const [msg] = messagesOf(events);
    expect(msg?.from).toBeNull();
    expect(msg?.userId).toBe(CUSTOMER_USER_ID);
    expect(msg?.username).toBe('@lu.fernandez');
    expect(msg?.profileName).toBe('Lu');
  });

  it('when several contacts arrive, then each message gets the card matching its from or user id', () => {
    const a = textMessage({ from: '5491155550001' });
    const b = textMessage({ from: null, fromUserId: 'AR.999' });
    const events = parse(
      envelope(
        messagesChange({
          contacts: [
            contact({ waId: '5491155550007', name: 'Otro' }),
            contact({ waId: null, userId: 'AR.999', name: 'Bea' }),
            contact({ waId: '5491155550001', name: 'Ana', userId: 'AR.111' }),
          ],
          messages: [a, b],
        }),
      ),
    );
    const [ma, mb] = messagesOf(events);
    expect([ma?.profileName, ma?.userId]).toEqual(['Ana', 'AR.111']);
    expect([mb?.profileName, mb?.from, mb?.userId]).toEqual(['Bea', null, 'AR.999']);
  });

  it('when a change is for another field, then it is kind other with reason unhandled_field and the value kept', () => {
    const change = otherFieldChange('message_template_status_update');
    const events = parse(envelope(change));
    expect(events).toEqual([
      {
        kind: 'other',
        line: null,
        field: 'message_template_status_update',
        reason: 'unhandled_field',
        value: change.value,
      },
    ]);
  });

  it('when value.errors is present, then one kind error event holds all the errors', () => {
    const events = parse(
      envelope(
        messagesChange({
          errors: [metaError({ code: 131000, title: 'Something went wrong', details: 'Unknown' }), metaError()],
        }),
      ),
    );
    expect(events).toHaveLength(1);
    const [ev] = events;
    expect(ev?.kind).toBe('error');
    if (ev?.kind !== 'error') return;
    expect(ev.field).toBe('messages');
    expect(ev.line?.phoneNumberId).toBe(PHONE_NUMBER_ID);
    expect(ev.errors).toEqual([
      { code: 131000, title: 'Something went wrong', message: 'Something went wrong', details: 'Unknown' },
      {
        code: 130429,
        title: 'Rate limit hit',
        message: 'Rate limit hit',
        details: 'Cloud API message throughput has been reached.',
      },
    ]);
  });

  it('when metadata is missing, then messages and statuses become kind other with reason missing_metadata', () => {
    const events = parse(
      envelope(messagesChange({ withoutMetadata: true, messages: [textMessage()], statuses: [statusItem()] })),
    );
    expect(events.map((e) => (e.kind === 'other' ? e.reason : e.kind))).toEqual([
      'missing_metadata',
      'missing_metadata',
    ]);
  });

  it('when a messages change holds nothing recognisable, then one kind other with reason no_items', () => {
    const events = parse(envelope(messagesChange({})));
    expect(events.map((e) => (e.kind === 'other' ? e.reason : e.kind))).toEqual(['no_items']);
  });

  it('when value.messages is not an array, then it is kind other rather than a rejected batch', () => {
    const change = messagesChange();
    change.value['messages'] = { not: 'an array' };
    const events = parse(envelope(change, messagesChange({ messages: [textMessage()] })));
    expect(events.map((e) => (e.kind === 'other' ? e.reason : e.kind))).toEqual([
      'malformed_messages: not an array',
      'message',
    ]);
  });

  it('when normaliseEnvelope is given a parsed envelope, then timestamps are numbers and the line carries the WABA id', () => {
    const m = textMessage({ timestamp: '1739321024' });
    const [ev] = normaliseEnvelope(parseEnvelope(inboundEnvelope(m)));
    expect(ev?.kind === 'message' && ev.timestamp).toBe(1739321024);
    expect(ev?.kind === 'message' && ev.line).toEqual({
      phoneNumberId: PHONE_NUMBER_ID,
      displayPhoneNumber: DISPLAY_PHONE_NUMBER,
      wabaId: WABA_ID,
    });
  });
});

describe('parseWebhookBody: statuses', () => {
  it('when a sent status with conversation and pricing arrives, then every field is mapped', () => {
    const s = statusItem({ status: 'sent', timestamp: '1750857384', recipientUserId: 'AR.42' });
    const [ev] = statusesOf(parse(envelope(messagesChange({ statuses: [s] }))));
    const conversation = s['conversation'] as { expiration_timestamp: string };
    expect(ev).toEqual({
      kind: 'status',
      line: { phoneNumberId: PHONE_NUMBER_ID, displayPhoneNumber: DISPLAY_PHONE_NUMBER, wabaId: WABA_ID },
      wamid: s['id'],
      status: 'sent',
      timestamp: 1750857384,
      recipientId: '5491155550001',
      recipientUserId: 'AR.42',
      conversation: {
        id: 'a75d17ad06104c51166f948319b03c6a',
        originType: 'service',
        expiresAt: Number(conversation.expiration_timestamp),
      },
      pricing: { category: 'service', model: 'CBP', billable: true },
      errors: [],
    });
  });

  it('when a failed status carries errors, then they are mapped to MetaError', () => {
    const s = statusItem({
      status: 'failed',
      errors: [
        metaError({
          code: 131047,
          title: 'Re-engagement message',
          details: 'Message failed to send because more than 24 hours have passed.',
        }),
      ],
    });
    const [ev] = statusesOf(parse(envelope(messagesChange({ statuses: [s] }))));
    expect(ev?.status).toBe('failed');
    expect(ev?.conversation).toBeNull();
    expect(ev?.pricing).toBeNull();
    expect(ev?.errors).toEqual([
      {
        code: 131047,
        title: 'Re-engagement message',
        message: 'Re-engagement message',
        details: 'Message failed to send because more than 24 hours have passed.',
      },
    ]);
  });

  it('when a status value is unknown, then it is kept as-is', () => {
    const [ev] = statusesOf(parse(envelope(messagesChange({ statuses: [statusItem({ status: 'deleted' })] }))));
    expect(ev?.status).toBe('deleted');
  });

  it('when a status has no id, then it is kind other while the next status parses', () => {
    const broken = statusItem();
    delete broken['id'];
    const events = parse(envelope(messagesChange({ statuses: [broken, statusItem({ status: 'read' })] })));
    expect(events.map((e) => (e.kind === 'other' ? e.reason : e.kind))).toEqual([
      'malformed_status: invalid id',
      'status',
    ]);
  });
});
