import { describe, expect, it } from 'vitest';
import { isSandboxItem } from '../../../src/outbound/sandbox-transport.js';
import { sandboxEnvelope } from '../../../src/sandbox/sandbox-envelope.js';
import { isSandboxPhone } from '../../../src/sandbox/sandbox-phones.js';
import type { OutboxItem } from '../../../src/store/outbox-repository.js';
import { parseWebhookBody } from '../../../src/webhook/parse-events.js';

const customer = { phone: '00001000001', name: 'Cliente de prueba 1' };

describe('sandbox envelope', () => {
  it('when the customer types, then the router parser reads one text message from the sandbox number on the line', () => {
    const { wamid, body } = sandboxEnvelope({
      phoneNumberId: '0000000000',
      displayPhoneNumber: 'wsp4',
      customer,
      input: { kind: 'text', text: 'hola' },
    });
    const events = parseWebhookBody(Buffer.from(JSON.stringify(body)));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: 'message',
      wamid,
      from: customer.phone,
      type: 'text',
      text: 'hola',
      profileName: customer.name,
      line: { phoneNumberId: '0000000000' },
    });
  });

  it('when the customer taps a list row or a button, then the parser reads the reply id and the context', () => {
    const list = sandboxEnvelope({
      phoneNumberId: '0000000000',
      displayPhoneNumber: 'wsp4',
      customer,
      input: { kind: 'list_reply', id: 'alumnos', title: 'Alumnos', description: 'Clases' },
      contextWamid: 'sandbox.12',
    });
    const button = sandboxEnvelope({
      phoneNumberId: '0000000000',
      displayPhoneNumber: 'wsp4',
      customer,
      input: { kind: 'button_reply', id: 'si', title: 'Sí' },
    });
    expect(list.wamid).not.toBe(button.wamid);
    const [l] = parseWebhookBody(Buffer.from(JSON.stringify(list.body)));
    const [b] = parseWebhookBody(Buffer.from(JSON.stringify(button.body)));
    expect(l).toMatchObject({ type: 'interactive', context: { messageId: 'sandbox.12' } });
    expect(JSON.stringify(l)).toContain('"alumnos"');
    expect(b).toMatchObject({ type: 'interactive' });
    expect(JSON.stringify(b)).toContain('"si"');
  });
});

describe('sandbox marks', () => {
  it('when a number starts with 0000 and has 11 digits, then it is a sandbox customer; real numbers never are', () => {
    expect(isSandboxPhone('00001000001')).toBe(true);
    expect(isSandboxPhone('+00001000001')).toBe(true);
    expect(isSandboxPhone('5491155550000')).toBe(false);
    expect(isSandboxPhone('0000100000')).toBe(false);
    expect(isSandboxPhone(null)).toBe(false);
  });

  it('when outbox rows are addressed to or about a sandbox customer, then the sandbox transport takes them, and only them', () => {
    const row = (canal: 'whatsapp' | 'inbox', destinatario: string, payload: Record<string, unknown> = {}) =>
      ({
        id: '1',
        canal,
        mensaje_id: null,
        linea: 'wsp4',
        destinatario,
        payload,
        intentos: 1,
        ventana_fin: null,
      }) as OutboxItem;
    expect(isSandboxItem(row('whatsapp', '00001000001'))).toBe(true);
    expect(isSandboxItem(row('whatsapp', '5491155550000'))).toBe(false);
    expect(isSandboxItem(row('inbox', 'https://n8n/x', { contact: { phone: '+00001000001' } }))).toBe(true);
    expect(isSandboxItem(row('inbox', 'https://n8n/x', { contact: { phone: '+5491155550000' } }))).toBe(false);
    expect(isSandboxItem(row('inbox', 'https://n8n/x', {}))).toBe(false);
  });
});
