import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { InboxClient } from '../../src/outbound/inbox-client.js';
import { verifyInboxSignature } from '../../src/outbound/inbox-signature.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { INBOX_SECRET, startRoutingRig, type RoutingRig } from '../helpers/routing-bench.js';

const PHONE = '5491177770001';

/** A local HTTP server answering with `handler`; records how many requests reached it. */
async function server(
  handler: (res: ServerResponse, path: string) => void,
): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const srv: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    req.resume();
    req.on('end', () => handler(res, req.url ?? ''));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const a = srv.address();
  return {
    url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`,
    hits,
    close: () => new Promise((resolve) => (srv.closeAllConnections(), srv.close(() => resolve()))),
  };
}

describe('inbox notifications', () => {
  let rig: RoutingRig;
  let clock = Math.floor(Date.now() / 1000) - 300;
  const say = async (text: string, name?: string) => {
    const body = inboundEnvelope(
      textMessage({ from: PHONE, body: text, timestamp: (clock += 1) }),
      name ? { name } : {},
    );
    expect((await rig.router.postWebhook(body)).status).toBe(200);
    await rig.settle();
  };
  /** 'hola' → menu, '1' → derived to the admin area: one inbox notification to the admin area's URL. */
  const derive = async (name?: string) => {
    await say('hola', name);
    await say('1', name);
  };
  const pointAdminAt = (url: string) =>
    withClient((c) => c.query(`UPDATE router_areas SET inbox_webhook_url = $1 WHERE id = 'admin'`, [url]));
  const inboxRows = async () =>
    (
      await withClient((c) =>
        c.query<{ estado: string; error: string | null }>(
          `SELECT estado, error FROM router_outbox WHERE canal = 'inbox' ORDER BY id`,
        ),
      )
    ).rows;

  beforeAll(async () => {
    await resetDatabase();
    rig = await startRoutingRig({}, { statuses: false });
  });
  afterAll(async () => {
    await rig.close();
  });
  beforeEach(async () => {
    await rig.reset();
    await pointAdminAt(`${rig.inbox.url}/admin`);
  });

  it('when the inbox answers with a redirect, then it is not followed: nothing reaches the target and the row fails saying why', async () => {
    const target = await server((res) => res.end('{}'));
    const redirecting = await server((res) => res.writeHead(307, { location: `${target.url}/elsewhere` }).end());
    try {
      await pointAdminAt(`${redirecting.url}/admin`);
      await derive();
      expect(redirecting.hits).toEqual(['/admin']);
      expect(target.hits).toEqual([]);
      expect(await inboxRows()).toEqual([
        { estado: 'fallido', error: expect.stringMatching(/^inbox webhook answered 307 \(a redirect; not followed/) },
      ]);
    } finally {
      await redirecting.close();
      await target.close();
    }
  });

  it('when the inbox answers 200 with an endless body, then only its first bytes are read and the notification counts as delivered', async () => {
    let written = 0;
    let closed!: () => void;
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    const huge = await server((res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.once('close', () => closed());
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      const pump = () => {
        // Up to 200 MiB, as fast as the reader takes it; stops when the router hangs up.
        while (written < 200 * 1024 * 1024 && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    try {
      await pointAdminAt(`${huge.url}/admin`);
      await derive();
      await connectionClosed;
      expect(await inboxRows()).toEqual([{ estado: 'enviado', error: null }]);
      // Socket buffers hold a few MiB; a whole read would have taken all 200.
      expect(written).toBeLessThan(32 * 1024 * 1024);
    } finally {
      await huge.close();
    }
  });

  it.each([
    ['data:application/json,{}', /must be http\(s\), not data:/],
    ['ftp://127.0.0.1/inbox', /must be http\(s\), not ftp:/],
    ['file:///etc/passwd', /must be http\(s\), not file:/],
    ['n8n.example.com/webhook/admin', /is not a URL/],
  ])("when an area's inbox URL is %s, then the row fails at once with inbox_url_invalid", async (url, reason) => {
    await pointAdminAt(url);
    await derive();
    const rows = await inboxRows();
    expect(rows).toEqual([
      { estado: 'fallido', error: expect.stringMatching(/^inbox_url_invalid: the area inbox_webhook_url /) },
    ]);
    expect(rows[0]!.error).toMatch(reason);
  });

  it('when a notification is posted, then it carries t=…,v1=… over "t.body", fresh, and stale or altered copies do not verify', async () => {
    await derive();
    const [delivery] = await rig.inbox.waitFor(1);
    expect(delivery!.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(delivery!.signatureValid).toBe(true);
    const t = Number(/^t=(\d+)/.exec(delivery!.signature)![1]);
    expect(Math.abs(Date.now() / 1000 - t)).toBeLessThan(60);
    const raw = JSON.stringify(delivery!.body);
    const now = Date.now() / 1000;
    expect(verifyInboxSignature(delivery!.signature, raw, INBOX_SECRET, now)).toBe(true);
    // A replay ten minutes later, a re-dated header and a changed body all fail.
    expect(verifyInboxSignature(delivery!.signature, raw, INBOX_SECRET, now + 600)).toBe(false);
    expect(
      verifyInboxSignature(delivery!.signature.replace(/^t=\d+/, `t=${Math.floor(now) + 1}`), raw, INBOX_SECRET, now),
    ).toBe(false);
    expect(verifyInboxSignature(delivery!.signature, raw.replace('admin', 'ventas'), INBOX_SECRET, now)).toBe(false);
  });

  it('when production has no INBOX_WEBHOOK_SECRET, then the client refuses to post unsigned and nothing leaves', async () => {
    const receiver = await server((res) => res.end('{}'));
    try {
      const client = new InboxClient({ secret: undefined, timeoutMs: 1_000, requireSecret: true });
      await expect(
        client.deliver(`${receiver.url}/admin`, { event: 'derivation' }, 'derivation', '1'),
      ).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/^inbox_secret_missing: /) });
      expect(receiver.hits).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('when a customer types {ticket} or is named with it, then the notification carries their words unchanged and the ticket only in its field', async () => {
    await derive('Ana {ticket}');
    await say('mi número de caso es {ticket} y {ticket}');
    const [derivation, forwarded] = await rig.inbox.waitFor(2);
    const [{ ticket_id: ticket }] = (
      await withClient((c) => c.query<{ ticket_id: string }>('SELECT ticket_id FROM tickets'))
    ).rows as [{ ticket_id: string }];
    expect(ticket).toMatch(/^TKT-/);
    expect(derivation!.body).toMatchObject({ event: 'derivation', ticket, contact: { name: 'Ana {ticket}' } });
    expect(forwarded!.body).toMatchObject({
      event: 'message',
      ticket,
      message: { text: 'mi número de caso es {ticket} y {ticket}' },
    });
    // The bot's own reply templates still get the ticket substituted.
    const confirmation = rig.sim.sent
      .map((s) => (s.body['text'] as { body?: string } | undefined)?.body ?? '')
      .find((t) => t.includes('TKT-'));
    expect(confirmation).toContain(ticket);
  });
});
