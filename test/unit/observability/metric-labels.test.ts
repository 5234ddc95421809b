import { describe, expect, it } from 'vitest';
import { eventTypeLabel, outboundCodeLabel } from '../../../src/observability/metric-labels.js';
import type { InboundEvent } from '../../../src/webhook/inbound-event.js';

const line = { phoneNumberId: '1', displayPhoneNumber: null, wabaId: '2' };

describe('metric labels', () => {
  it('when a status, field or reason is one the router knows, then it is its own label; otherwise it is unknown', () => {
    const status = (s: string) =>
      ({
        kind: 'status',
        line,
        wamid: 'w',
        status: s,
        timestamp: 1,
        recipientId: null,
        recipientUserId: null,
        conversation: null,
        pricing: null,
        errors: [],
      }) as InboundEvent;
    expect(eventTypeLabel(status('read'))).toBe('read');
    expect(eventTypeLabel(status('hacked_1'))).toBe('unknown');
    expect(eventTypeLabel({ kind: 'error', line, field: 'messages', errors: [] })).toBe('messages');
    expect(eventTypeLabel({ kind: 'error', line, field: 'x'.repeat(500), errors: [] })).toBe('unknown');
    expect(
      eventTypeLabel({ kind: 'other', line, field: 'messages', reason: 'malformed_message: invalid id', value: null }),
    ).toBe('malformed_message');
    expect(eventTypeLabel({ kind: 'other', line, field: 'messages', reason: 'anything else: 123', value: null })).toBe(
      'unknown',
    );
  });

  it("when a send fails with a code, then Meta's known codes and HTTP statuses are labels and anything else is unknown", () => {
    expect(outboundCodeLabel(null)).toBe('');
    expect(outboundCodeLabel(131047)).toBe('131047');
    expect(outboundCodeLabel(503)).toBe('503');
    expect(outboundCodeLabel(987654321)).toBe('unknown');
    expect(outboundCodeLabel(-4)).toBe('unknown');
  });
});
