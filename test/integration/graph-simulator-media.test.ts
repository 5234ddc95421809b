import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../src/simulator/graph-simulator.js';

const TOKEN = 'media-sim-token';
const auth = { authorization: `Bearer ${TOKEN}` };

interface Lookup {
  messaging_product?: string;
  url?: string;
  mime_type?: string;
  sha256?: string;
  file_size?: number;
  id?: string;
  error?: { message: string; type: string; code: number; error_subcode?: number };
}

describe('Graph simulator: media endpoints', () => {
  let sim: GraphSimulator;
  const lookup = async (id: string, headers: Record<string, string> = auth) => {
    const res = await fetch(`${sim.url}/v25.0/${id}`, { headers });
    return { status: res.status, body: (await res.json()) as Lookup };
  };
  const get = async (url: string, headers: Record<string, string> = auth) => {
    const res = await fetch(url, { headers });
    return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
  };

  beforeAll(async () => {
    sim = await startGraphSimulator({ accessToken: TOKEN, mediaUrlTtlMs: 60_000 });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  it('when a known media id is looked up with the token, then Graph-shaped metadata and a working download link come back', async () => {
    const bytes = randomBytes(4_096);
    const added = sim.addMedia({ bytes, mimeType: 'image/jpeg' });
    expect(added.sha256).toBe(createHash('sha256').update(bytes).digest('base64'));

    const { status, body } = await lookup(added.id);
    expect(status).toBe(200);
    expect(body).toEqual({
      messaging_product: 'whatsapp',
      url: expect.stringMatching(/\/whatsapp_business\/attachments\/\?mid=\d+&ext=\d+&hash=[\w-]+$/),
      mime_type: 'image/jpeg',
      sha256: added.sha256Hex,
      file_size: 4_096,
      id: added.id,
    });
    const file = await get(body.url!);
    expect(file).toMatchObject({ status: 200, type: 'image/jpeg' });
    expect(file.bytes.equals(bytes)).toBe(true);
    expect(sim.mediaCounters).toEqual({ lookups: 1, downloads: 1, served: 1 });
  });

  it('when the token is missing or wrong, then lookup and download answer 401 with Meta’s token error', async () => {
    const added = sim.addMedia({ bytes: 'x', mimeType: 'text/plain' });
    const { body } = await lookup(added.id);
    expect((await lookup(added.id, {})).status).toBe(401);
    expect((await lookup(added.id, { authorization: 'Bearer nope' })).body.error?.code).toBe(190);
    expect((await get(body.url!, {})).status).toBe(401);
    expect(sim.mediaCounters).toEqual({ lookups: 1, downloads: 0, served: 0 });
  });

  it('when links are expired, then downloading them answers 404 and a fresh lookup gives a working one', async () => {
    const added = sim.addMedia({ bytes: 'audio bytes', mimeType: 'audio/ogg' });
    const first = (await lookup(added.id)).body.url!;
    expect(sim.expireMediaUrls()).toBe(1);
    expect((await get(first)).status).toBe(404);
    const fresh = (await lookup(added.id)).body.url!;
    expect((await get(fresh)).bytes.toString()).toBe('audio bytes');

    sim.expireNextMediaUrls(1);
    const bornExpired = (await lookup(added.id)).body.url!;
    expect((await get(bornExpired)).status).toBe(404);
  });

  it('when a media id is unknown or deleted, then lookup answers 404 with Graph’s object error and old links stop working', async () => {
    const added = sim.addMedia({ bytes: 'pdf', mimeType: 'application/pdf', filename: 'a.pdf' });
    const link = (await lookup(added.id)).body.url!;
    expect(sim.deleteMedia(added.id)).toBe(true);
    const gone = await lookup(added.id);
    expect(gone.status).toBe(404);
    expect(gone.body.error).toMatchObject({ type: 'GraphMethodException', code: 100, error_subcode: 33 });
    expect(gone.body.error?.message).toContain(`Object with ID '${added.id}' does not exist`);
    expect((await get(link)).status).toBe(404);
  });

  it('when media is added over the control API, then it can be looked up like any other', async () => {
    const res = await fetch(`${sim.url}/__sim/media?filename=foto.jpg`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: Buffer.from('png bytes'),
    });
    const added = (await res.json()) as { id: string; sha256Hex: string; size: number };
    expect(added.size).toBe(9);
    const { body } = await lookup(added.id);
    expect(body).toMatchObject({ mime_type: 'image/png', sha256: added.sha256Hex });
    expect(await (await fetch(`${sim.url}/__sim/media/expire`, { method: 'POST' })).json()).toEqual({ expired: 1 });
    expect((await get(body.url!)).status).toBe(404);
  });
});
