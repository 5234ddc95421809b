import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { fastWebhookPath } from '../../../src/ingress/webhook-fast-path.js';

const request = (method: string, url: string, headers: Record<string, string> = {}) =>
  ({ method, url, headers }) as unknown as IncomingMessage;

describe('which requests the webhook fast path takes', () => {
  it.each([
    ['POST', '/webhook', {}, '/webhook'],
    ['POST', '/webhook/whatsapp', {}, '/webhook/whatsapp'],
    ['POST', '/webhook?hub=1', {}, '/webhook'],
    ['POST', '/webhook/whatsapp?', {}, '/webhook/whatsapp'],
    ['POST', '/webhook', { 'content-encoding': 'identity' }, '/webhook'],
    ['POST', '/webhook', { 'content-encoding': 'IDENTITY' }, '/webhook'],
    ['POST', '/webhook', { 'content-encoding': '' }, '/webhook'],
  ])('when %s %s comes with %o, then the fast path takes it as %s', (method, url, headers, path) => {
    expect(fastWebhookPath(request(method, url, headers))).toBe(path);
  });

  it.each([
    ['GET', '/webhook', {}],
    ['PUT', '/webhook', {}],
    ['POST', '/webhook/', {}],
    ['POST', '/Webhook', {}],
    ['POST', '/webhook/evolution/line1', {}],
    ['POST', '/webhookx', {}],
    ['POST', 'http://127.0.0.1/webhook', {}],
    ['POST', '/webhook', { 'content-encoding': 'gzip' }],
    ['POST', '/webhook', { 'content-encoding': 'deflate' }],
    ['POST', '/webhook', { 'content-encoding': 'br' }],
  ])('when %s %s comes with %o, then it is left to Express', (method, url, headers) => {
    expect(fastWebhookPath(request(method, url, headers))).toBeNull();
  });
});
