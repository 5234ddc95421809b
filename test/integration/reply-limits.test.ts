import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { resetDatabase, truncateData, withClient } from '../helpers/reset-db.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

/**
 * 300 texts from one number used to get 300 menus, and two auto-responders could answer each other
 * forever. Every message is stored; what the router answers is bounded (src/routing/reply-limits.ts).
 */
describe('reply limits per conversation', () => {
  let router: RunningRouter;

  beforeAll(async () => {
    await resetDatabase();
    // No sender: the outbox rows are what the router decided to send.
    router = await startRouter(testConfig(), { sender: false });
  });
  afterAll(async () => {
    await router.stop();
  });
  beforeEach(async () => {
    await truncateData();
  });

  const counts = (phone: string) =>
    withClient(
      async (c) =>
        (
          await c.query(
            `SELECT (SELECT count(*)::int FROM mensajes m JOIN conversaciones cv ON cv.id = m.conversacion_id
                WHERE cv.telefono = $1 AND m.direccion = 'entrante' AND m.remitente_tipo = 'contacto') AS stored,
              (SELECT count(*)::int FROM router_outbox o JOIN conversaciones cv ON cv.id = o.conversacion_id
                WHERE cv.telefono = $1 AND o.canal = 'whatsapp') AS sent`,
            [`+${phone}`],
          )
        ).rows[0] as { stored: number; sent: number },
    );
  const post = async (phone: string, body: string, timestamp: number) => {
    expect((await router.postWebhook(inboundEnvelope(textMessage({ from: phone, body, timestamp })))).status).toBe(200);
  };

  it('when one number sends 300 texts in a burst, then all 300 are stored and one menu is sent', async () => {
    const phone = '5491199990001';
    const t0 = Math.floor(Date.now() / 1000) - 120;
    // Ten a second, as a script sends them, in batches of ten as Meta groups them.
    for (let s = 0; s < 30; s++) {
      const messages = Array.from({ length: 10 }, (_, i) =>
        textMessage({ from: phone, body: `spam ${s * 10 + i}`, timestamp: t0 + s }),
      );
      expect((await router.postWebhook(inboundEnvelope(messages))).status).toBe(200);
    }
    await router.idle();
    expect(await counts(phone)).toEqual({ stored: 300, sent: 1 });
  });

  it('when an auto-responder answers every message of ours, then it gets one menu and the loop ends', async () => {
    const phone = '5491199990002';
    const t0 = Math.floor(Date.now() / 1000) - 60;
    await post(phone, 'hola', t0);
    await router.idle();
    expect((await counts(phone)).sent).toBe(1);
    // The other side's bot answers what we sent, a couple of seconds later each time; it stops when we do.
    let rounds = 0;
    for (let sent = 1; rounds < 20; rounds++) {
      await post(phone, 'Gracias por escribirnos. Te responderemos a la brevedad.', t0 + 2 * (rounds + 1));
      await router.idle();
      const now = (await counts(phone)).sent;
      if (now === sent) break;
      sent = now;
    }
    expect(rounds).toBe(0);
    expect(await counts(phone)).toEqual({ stored: 2, sent: 1 });
  });

  it('when a sender alternates inputs faster than a person types, then it is answered until the 6th message in 10 s and the messages are still stored', async () => {
    const phone = '5491199990003';
    const t0 = Math.floor(Date.now() / 1000) - 120;
    // hola → main menu, 2 → Alumnos, MENU → main menu…: a different reply each time, one a second.
    const inputs = ['hola', '2', 'MENU', '2', 'MENU', '2', 'MENU', '2', 'MENU', '2', 'MENU', '2'];
    for (const [i, body] of inputs.entries()) await post(phone, body, t0 + i);
    await router.idle();
    expect(await counts(phone)).toEqual({ stored: 12, sent: 5 });
    const outcomes = await withClient(
      async (c) =>
        (
          await c.query(
            `SELECT count(*)::int AS n FROM router_eventos WHERE conv_key LIKE '%' || $1 AND estado = 'hecho'`,
            [phone],
          )
        ).rows[0].n,
    );
    expect(outcomes).toBe(12);

    // Once it slows down, it is answered again.
    await post(phone, '2', t0 + 40);
    await router.idle();
    expect(await counts(phone)).toEqual({ stored: 13, sent: 6 });
  });
});
