import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contact, envelope, messagesChange, textMessage } from '../fixtures/whatsapp/builders.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';
import type { MessageHandler } from '../../src/conversations/message-handler.js';

/**
 * Records, per conversation, the order in which messages were handled and whether two handlers of
 * one conversation ever overlapped — a trace, not a guess.
 */
function tracingHandler() {
  const order = new Map<string, number[]>();
  const active = new Map<string, number>();
  let overlaps = 0;
  let maxParallel = 0;
  let running = 0;
  const handler: MessageHandler = {
    async handle(ctx) {
      const conv = ctx.conversation.id;
      active.set(conv, (active.get(conv) ?? 0) + 1);
      if ((active.get(conv) ?? 0) > 1) overlaps += 1;
      running += 1;
      maxParallel = Math.max(maxParallel, running);
      // Yield to the event loop (and to the database) so overlaps would show if they could happen.
      await new Promise((r) => setImmediate(r));
      const list = order.get(conv) ?? [];
      list.push(ctx.event.timestamp);
      order.set(conv, list);
      running -= 1;
      active.set(conv, (active.get(conv) ?? 1) - 1);
      return { outcome: 'traced' };
    },
  };
  return { handler, order, overlaps: () => overlaps, maxParallel: () => maxParallel };
}

describe('per-conversation order under parallel requests', () => {
  let router: RunningRouter;
  const trace = tracingHandler();

  beforeAll(async () => {
    await resetDatabase();
    router = await startRouter(testConfig({ MAX_CONCURRENCY: '8', DB_POOL_MAX: '12' }), { handler: trace.handler });
  });
  afterAll(async () => {
    await router.stop();
  });

  it('when 10 customers each send 15 messages in separate parallel requests, then each conversation is handled by one task at a time and none is lost', async () => {
    const base = 1_780_100_000;
    const posts: Promise<Response>[] = [];
    for (let i = 0; i < 15; i++) {
      for (let c = 0; c < 10; c++) {
        const phone = `54911700000${c.toString().padStart(2, '0')}`;
        // Within a request the timestamps are shuffled too: order comes from WhatsApp time, not arrival.
        const ts = base + (i % 2 === 0 ? i : 30 - i);
        posts.push(
          router.postWebhook(
            envelope(
              messagesChange({
                contacts: [contact({ waId: phone })],
                messages: [textMessage({ from: phone, body: `n${ts}`, timestamp: ts })],
              }),
            ),
          ),
        );
      }
    }
    const res = await Promise.all(posts);
    expect(res.every((r) => r.status === 200)).toBe(true);
    await router.idle();
    await withClient(async (c) => {
      const counts = await c.query<{ mensajes_no_leidos: number }>('SELECT mensajes_no_leidos FROM conversaciones');
      expect(counts.rows.map((r) => r.mensajes_no_leidos)).toEqual(Array(10).fill(15));
    });
    expect(trace.overlaps()).toBe(0);
    expect(trace.maxParallel()).toBeGreaterThan(1);
    expect(trace.order.size).toBe(10);
    for (const list of trace.order.values()) expect(list).toHaveLength(15);
  });

  it('when one request holds several messages of one conversation out of order, then they are handled in timestamp order', async () => {
    const phone = '5491170009999';
    const ts = [1_780_200_005, 1_780_200_001, 1_780_200_003, 1_780_200_002, 1_780_200_004];
    const messages = ts.map((t) => textMessage({ from: phone, body: `t${t}`, timestamp: t }));
    await router.postWebhook(envelope(messagesChange({ contacts: [contact({ waId: phone })], messages })));
    await router.idle();
    const convId = await withClient(
      async (c) =>
        (await c.query<{ id: string }>('SELECT id FROM conversaciones WHERE telefono = $1', [`+${phone}`])).rows[0]!.id,
    );
    expect(trace.order.get(convId)).toEqual([...ts].sort());
  });
});
