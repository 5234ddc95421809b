import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { parseWebhookBody } from '../../../src/webhook/parse-events.js';
import { parseEnvelope } from '../../../src/webhook/payload-schema.js';
import { bodyOf, envelope, messagesChange, textMessage } from '../../fixtures/whatsapp/builders.js';

/** Runs `fn`, expecting an AppError; returns it for inspection. */
function appErrorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an AppError, nothing was thrown');
}

describe('parseWebhookBody: rejecting what is not a webhook', () => {
  it('when the body is not JSON, then it throws PAYLOAD_NOT_JSON (400)', () => {
    const err = appErrorOf(() => parseWebhookBody(Buffer.from('{"object": "whatsapp_business_account",')));
    expect(err.code).toBe('PAYLOAD_NOT_JSON');
    expect(err.status).toBe(400);
  });

  it('when the body is empty, then it throws PAYLOAD_NOT_JSON', () => {
    expect(appErrorOf(() => parseWebhookBody(Buffer.alloc(0))).code).toBe('PAYLOAD_NOT_JSON');
  });

  it('when the JSON is an array, then it throws PAYLOAD_NOT_ENVELOPE', () => {
    const err = appErrorOf(() => parseWebhookBody(bodyOf([envelope(messagesChange())])));
    expect(err.code).toBe('PAYLOAD_NOT_ENVELOPE');
    expect(err.details?.['jsonType']).toBe('array');
  });

  it('when the JSON is a scalar or null, then it throws PAYLOAD_NOT_ENVELOPE', () => {
    expect(appErrorOf(() => parseWebhookBody(Buffer.from('42'))).code).toBe('PAYLOAD_NOT_ENVELOPE');
    expect(appErrorOf(() => parseWebhookBody(Buffer.from('null'))).code).toBe('PAYLOAD_NOT_ENVELOPE');
  });

  it('when `object` is not whatsapp_business_account, then it throws PAYLOAD_NOT_ENVELOPE naming the path', () => {
    const err = appErrorOf(() => parseWebhookBody(bodyOf({ ...envelope(messagesChange()), object: 'page' })));
    expect(err.code).toBe('PAYLOAD_NOT_ENVELOPE');
    expect(err.details?.['issues']).toEqual(['object']);
  });

  it('when `entry` is missing, then it throws PAYLOAD_NOT_ENVELOPE naming entry', () => {
    const err = appErrorOf(() => parseWebhookBody(bodyOf({ object: 'whatsapp_business_account' })));
    expect(err.code).toBe('PAYLOAD_NOT_ENVELOPE');
    expect(err.details?.['issues']).toEqual(['entry']);
  });

  it('when `entry` is empty, then it throws PAYLOAD_NOT_ENVELOPE', () => {
    const err = appErrorOf(() => parseWebhookBody(bodyOf({ object: 'whatsapp_business_account', entry: [] })));
    expect(err.code).toBe('PAYLOAD_NOT_ENVELOPE');
  });

  it('when a change has no value object, then the issue path points at it', () => {
    const bad = {
      object: 'whatsapp_business_account',
      entry: [{ id: '1', changes: [{ field: 'messages', value: 'x' }] }],
    };
    const err = appErrorOf(() => parseEnvelope(bad));
    expect(err.code).toBe('PAYLOAD_NOT_ENVELOPE');
    expect(err.details?.['issues']).toEqual(['entry.0.changes.0.value']);
  });

  it('when the envelope carries extra keys Meta may add, then it still parses', () => {
    const payload = envelope(messagesChange({ messages: [textMessage()] }));
    const withExtras = {
      ...payload,
      new_top_level: true,
      entry: payload.entry.map((e) => ({ ...e, time: 1739321024 })),
    };
    const events = parseWebhookBody(bodyOf(withExtras));
    expect(events.map((e) => e.kind)).toEqual(['message']);
  });
});

describe('NUL characters', () => {
  it('when a message text carries \\u0000 (which PostgreSQL cannot store), then it is dropped and the rest kept', async () => {
    const { parseWebhookBody } = await import('../../../src/webhook/parse-events.js');
    const { bodyOf, inboundEnvelope, textMessage } = await import('../../fixtures/whatsapp/builders.js');
    const raw = bodyOf(inboundEnvelope(textMessage({ body: 'ho\u0000la' })));
    expect(raw.toString('utf8')).toContain('\\u0000');
    const [event] = parseWebhookBody(raw);
    expect(event?.kind === 'message' ? event.text : null).toBe('hola');
  });
});

describe('nesting depth', () => {
  it('when a signed body nests thousands of levels, then it is refused as not an envelope instead of crashing later', async () => {
    const { parseWebhookBody } = await import('../../../src/webhook/parse-events.js');
    const deep = `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"x","value":{"v":${'['.repeat(50_000)}${']'.repeat(50_000)}}}]}]}`;
    expect(() => parseWebhookBody(Buffer.from(deep))).toThrow(
      expect.objectContaining({ code: 'PAYLOAD_NOT_ENVELOPE' }),
    );
  });

  it('when an envelope nests normally (a contacts card, an order), then it parses', async () => {
    const { parseWebhookBody } = await import('../../../src/webhook/parse-events.js');
    const { bodyOf, inboundEnvelope, textMessage } = await import('../../fixtures/whatsapp/builders.js');
    expect(parseWebhookBody(bodyOf(inboundEnvelope(textMessage({ body: 'ok' }))))).toHaveLength(1);
  });
});
