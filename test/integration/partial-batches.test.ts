import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  contact,
  envelope,
  messagesChange,
  nextWamid,
  statusItem,
  textMessage,
  type MetaMessage,
} from '../fixtures/whatsapp/builders.js';
import { resetDatabase, truncateData, withClient } from '../helpers/reset-db.js';
import { readJson, startRouter, type RunningRouter } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

/** Random digits / base64: incompressible, so PostgreSQL cannot squeeze them under an index's row limit. */
const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');
const noise = (bytes: number) =>
  randomBytes(Math.ceil((bytes * 3) / 4))
    .toString('base64')
    .slice(0, bytes);

const GOOD_PHONE = '5491166660001';

/** One good message and one bad item in the same signed batch (the bad one first, so order cannot help). */
function batch(bad: MetaMessage, o: { badContact?: Record<string, unknown> } = {}) {
  const good = textMessage({ from: GOOD_PHONE, body: 'hola, soy el bueno' });
  return {
    good,
    body: envelope(
      messagesChange({
        contacts: [contact({ waId: GOOD_PHONE }), ...(o.badContact ? [o.badContact] : [])],
        messages: [bad, good],
      }),
    ),
  };
}

describe('a batch with bad items (direct mode)', () => {
  let router: RunningRouter;

  beforeAll(async () => {
    await resetDatabase();
    router = await startRouter(testConfig(), { sender: false });
  });
  afterAll(async () => {
    await router.stop();
  });
  beforeEach(async () => {
    await truncateData();
  });

  const storedGood = (wamid: string) =>
    withClient(async (c) =>
      (await c.query(`SELECT mensaje FROM mensajes WHERE whatsapp_message_id = $1`, [wamid])).rows.map(
        (r) => r.mensaje,
      ),
    );
  const others = () =>
    withClient(
      async (c) =>
        (await c.query(`SELECT estado, payload->>'reason' AS reason FROM router_eventos WHERE tipo = 'other'`)).rows,
    );

  it.each([
    [
      'a timestamp of 99999999999999',
      () => textMessage({ from: '5491166660002', timestamp: '99999999999999' }),
      /timestamp/,
    ],
    ['a timestamp of 0', () => textMessage({ from: '5491166660002', timestamp: 0 }), /timestamp/],
    [
      'a timestamp of 400 digits',
      () => textMessage({ from: '5491166660002', timestamp: '9'.repeat(400) }),
      /timestamp/,
    ],
    [
      'a lone surrogate \\ud800 in the text',
      () => textMessage({ from: '5491166660002', body: 'hola \ud800 chau' }),
      /unicode/,
    ],
    [
      'a lone low surrogate \\udc00 in the text',
      () => textMessage({ from: '5491166660002', body: '\udc00' }),
      /unicode/,
    ],
    // The fixture's wamid embeds the phone: give it a normal one so the from alone is too long.
    ['a 6 KB from', () => textMessage({ from: digits(6 * 1024), id: nextWamid('5491166660002') }), /from/],
    ['a 6 KB wamid', () => textMessage({ from: '5491166660002', id: `wamid.${noise(6 * 1024)}` }), /id/],
    [
      'a 3.2 KB from_user_id with no phone',
      () => textMessage({ from: null, fromUserId: `AR.${noise(3300)}` }),
      /from_user_id/,
    ],
    [
      'a 3.2 KB from_user_id beside a phone',
      () => textMessage({ from: '5491166660002', fromUserId: `AR.${noise(3300)}` }),
      /from_user_id/,
    ],
  ])(
    'when one item has %s, then 200, the good message is stored and the bad item is kept as an other event',
    async (_name, makeBad, reason) => {
      const { good, body } = batch(makeBad());
      const res = await router.postWebhook(body);
      expect(res.status).toBe(200);
      expect(await readJson(res)).toMatchObject({ received: 2, stored: 2 });
      await router.idle();
      expect(await storedGood(good.id)).toEqual(['hola, soy el bueno']);
      const kept = await others();
      expect(kept).toHaveLength(1);
      expect(kept[0]).toMatchObject({ estado: 'hecho' });
      expect(kept[0].reason).toMatch(reason);
      // Exactly one customer message was stored: the bad one never became a row.
      expect(
        await withClient(
          async (c) =>
            (await c.query(`SELECT count(*)::int AS n FROM mensajes WHERE direccion = 'entrante'`)).rows[0].n,
        ),
      ).toBe(1);
    },
  );

  it('when the contact card of the bad sender has a lone surrogate in its name, then its message is kept as other and the good one stored', async () => {
    const bad = textMessage({ from: '5491166660003', body: 'hola' });
    const { good, body } = batch(bad, { badContact: contact({ waId: '5491166660003', name: 'Lu\ud83dcía' }) });
    const res = await router.postWebhook(body);
    expect(res.status).toBe(200);
    await router.idle();
    expect(await storedGood(good.id)).toHaveLength(1);
    expect((await others())[0]?.reason).toMatch(/unicode/);
  });

  it('when a status has a 6 KB wamid or a far-future timestamp, then 200 and the good message is stored', async () => {
    const good = textMessage({ from: GOOD_PHONE, body: 'hola con estados' });
    const body = envelope(
      messagesChange({
        contacts: [contact({ waId: GOOD_PHONE })],
        messages: [good],
        statuses: [
          statusItem({ id: `wamid.${noise(6 * 1024)}` }),
          statusItem({ timestamp: '99999999999999' }),
          statusItem({ status: noise(4000) }),
        ],
      }),
    );
    const res = await router.postWebhook(body);
    expect(res.status).toBe(200);
    await router.idle();
    expect(await storedGood(good.id)).toHaveLength(1);
    expect((await others()).map((o) => o.reason).sort()).toEqual([
      expect.stringMatching(/^malformed_status: .*id/),
      expect.stringMatching(/^malformed_status: .*status/),
      expect.stringMatching(/^malformed_status: .*timestamp/),
    ]);
  });

  it('when the metadata phone_number_id is 6 KB, then 200 and its items are kept as other events', async () => {
    const body = envelope(
      messagesChange({
        phoneNumberId: digits(6 * 1024),
        contacts: [contact()],
        messages: [textMessage({ id: nextWamid() })],
      }),
    );
    const res = await router.postWebhook(body);
    expect(res.status).toBe(200);
    await router.idle();
    expect(await others()).toHaveLength(1);
  });

  it('when a change of another field carries lone surrogates in keys and values, then it is kept for audit with replacement characters', async () => {
    const body = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1',
          changes: [
            { field: 'account_update', value: { 'k\ud800': 'v\udfff', ok: 'bien' } },
            ...envelope(
              messagesChange({
                contacts: [contact({ waId: GOOD_PHONE })],
                messages: [textMessage({ from: GOOD_PHONE })],
              }),
            ).entry[0]!.changes,
          ],
        },
      ],
    };
    const res = await router.postWebhook(body);
    expect(res.status).toBe(200);
    await router.idle();
    const [kept] = await withClient(
      async (c) => (await c.query(`SELECT payload->'value' AS value FROM router_eventos WHERE tipo = 'other'`)).rows,
    );
    expect(kept.value).toEqual({ 'k\ufffd': 'v\ufffd', ok: 'bien' });
    expect(
      await withClient(async (c) => (await c.query(`SELECT count(*)::int AS n FROM mensajes`)).rows[0].n),
    ).toBeGreaterThanOrEqual(1);
  });
});
