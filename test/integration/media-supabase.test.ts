import { crmName, segment, watchLinkLooks } from '../helpers/media-links.js';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { SupabaseStore, type SupabaseStoreOptions } from '../../src/media/supabase-store.js';
import type { Queryable } from '../../src/store/db.js';
import {
  audioMessage,
  documentMessage,
  imageMessage,
  inboundEnvelope,
  stickerMessage,
  videoMessage,
} from '../fixtures/whatsapp/builders.js';
import { startFakeSupabaseStorage, type FakeSupabaseStorage } from '../helpers/fake-supabase-storage.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { startRoutingRig, type RoutingRig } from '../helpers/routing-bench.js';

const BUCKET = 'whatsapp-media';
let clock = Math.floor(Date.now() / 1000) - 600;
const ts = () => (clock += 1);
let phoneSeq = 0;
const nextPhone = () => `54911888${String((phoneSeq += 1)).padStart(5, '0')}`;
const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface Row {
  id: string;
  tipo: string;
  mensaje: string | null;
  media_url: string | null;
  media_type: string | null;
  media_filename: string | null;
  media_size: string | null;
  media_sha256: string | null;
  media_error: string | null;
  storage: string | null;
  storage_key: string | null;
  job_estado: string | null;
  job_url: string | null;
}

const rowOf = (wamid: string) =>
  withClient(async (c) => {
    const res = await c.query<Row>(
      `SELECT m.id, m.tipo, m.mensaje, m.media_url, m.media_type, m.media_filename, m.media_size::text, m.media_sha256, m.media_error,
              j.storage, j.storage_key, j.estado AS job_estado, j.url AS job_url
         FROM mensajes m LEFT JOIN router_media_jobs j ON j.mensaje_id = m.id WHERE m.whatsapp_message_id = $1`,
      [wamid],
    );
    return res.rows[0]!;
  });

/** A URL as the CRM's browser opens it: redirects followed. */
const download = async (url: string) => {
  const res = await fetch(url);
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    redirected: res.redirected,
    finalUrl: res.url,
    bytes: Buffer.from(await res.arrayBuffer()),
  };
};

/** The router's own answer to its message link, without following it. */
const linkAnswer = async (url: string) => {
  const res = await fetch(url, { redirect: 'manual' });
  await res.arrayBuffer();
  return { status: res.status, location: res.headers.get('location') };
};

const supabaseEnv = (storage: FakeSupabaseStorage, extra: Record<string, string> = {}) => ({
  MEDIA_STORAGE: 'supabase',
  SUPABASE_URL: storage.url,
  SUPABASE_SERVICE_ROLE_KEY: storage.serviceKey,
  SUPABASE_STORAGE_BUCKET: BUCKET,
  MEDIA_URL_TTL_S: '3600',
  MEDIA_POLL_MS: '50',
  ...extra,
});

describe('media pipeline with MEDIA_STORAGE=supabase (real @supabase/supabase-js against a local Storage API)', () => {
  let storage: FakeSupabaseStorage;
  let rig: RoutingRig;
  /** mensajes.media_url as the context query writes it: the router's own link, named after the file. */
  const linkFor = (messageId: string, name: string) => `${rig.router.url}/media/${messageId}/${segment(name)}`;

  beforeAll(async () => {
    await resetDatabase();
    storage = await startFakeSupabaseStorage();
    rig = await startRoutingRig(supabaseEnv(storage, { MEDIA_MAX_ATTEMPTS: '2' }), { statuses: false });
  });
  afterAll(async () => {
    await rig?.close();
    await storage?.close();
  });
  beforeEach(async () => {
    await rig.reset();
    storage.reset();
    // Every test starts with the bucket, whatever the one before did to it.
    storage.createBucket(BUCKET);
  });

  it('when an image arrives, then it is uploaded once and its message link redirects to a signed Storage URL that returns the same bytes', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(50_000)]);
    const added = rig.sim.addMedia({ bytes, mimeType: 'image/jpeg' });
    const message = imageMessage({ from: nextPhone(), timestamp: ts(), mediaId: added.id, sha256: added.sha256 });
    expect((await rig.router.postWebhook(inboundEnvelope(message))).status).toBe(200);
    await rig.settleMedia();

    const row = await rowOf(message.id);
    expect(row).toMatchObject({
      tipo: 'image',
      mensaje: '[Imagen]',
      storage: 'supabase',
      job_estado: 'hecho',
      media_type: 'image',
      media_filename: 'image.jpg',
      media_size: String(bytes.length),
      media_sha256: sha256Hex(bytes),
      media_error: null,
    });
    expect(row.media_url).toBe(linkFor(row.id, 'image.jpg'));
    expect(row.storage_key).toMatch(new RegExp(`^\\d{4}/\\d{2}/${row.id}/image\\.jpg$`));
    // The Storage URL is kept on the job; the link sends the browser there.
    expect(row.job_url!.startsWith(`${storage.url}/storage/v1/object/sign/${BUCKET}/${row.storage_key}?token=`)).toBe(
      true,
    );
    expect(await linkAnswer(row.media_url!)).toEqual({ status: 302, location: row.job_url });

    const stored = storage.objects.get(`${BUCKET}/${row.storage_key}`);
    expect(stored).toMatchObject({ contentType: 'image/jpeg', uploads: 1 });
    expect(stored!.bytes.equals(bytes)).toBe(true);
    const served = await download(row.media_url!);
    expect(served).toMatchObject({ status: 200, type: 'image/jpeg', redirected: true, finalUrl: row.job_url });
    expect(served.bytes.equals(bytes)).toBe(true);
    // Only the two API calls the client makes (the service key went with both, else 403), then the browser's GET.
    expect(storage.requests.map((r) => `${r.method} ${r.status} ${r.path.split('/').slice(0, 5).join('/')}`)).toEqual([
      `POST 200 /storage/v1/object/${BUCKET}`,
      'POST 200 /storage/v1/object/sign',
      'GET 200 /storage/v1/object/sign',
    ]);
  });

  it('when a document named with spaces and accents arrives, then the link ends in that name and leads to the object stored under a safe key', async () => {
    const bytes = Buffer.from(`%PDF-1.7 informe ${randomBytes(16).toString('hex')}`);
    const added = rig.sim.addMedia({ bytes, mimeType: 'application/pdf', filename: 'Informe final año.pdf' });
    const message = documentMessage({
      from: nextPhone(),
      timestamp: ts(),
      mediaId: added.id,
      sha256: added.sha256,
      filename: 'Informe final año.pdf',
    });
    expect((await rig.router.postWebhook(inboundEnvelope(message))).status).toBe(200);
    await rig.settleMedia();

    const row = await rowOf(message.id);
    expect(row).toMatchObject({
      tipo: 'document',
      mensaje: 'Informe final año.pdf',
      media_type: 'document',
      media_filename: 'Informe final año.pdf',
      job_estado: 'hecho',
    });
    expect(row.media_url).toBe(`${rig.router.url}/media/${row.id}/Informe%20final%20a%C3%B1o.pdf`);
    expect(crmName(row.media_url!)).toBe('Informe final año.pdf');
    expect(row.storage_key).toMatch(new RegExp(`^\\d{4}/\\d{2}/${row.id}/Informe-final-ano\\.pdf$`));
    const served = await download(row.media_url!);
    expect(served).toMatchObject({ status: 200, type: 'application/pdf', redirected: true });
    expect(served.bytes.equals(bytes)).toBe(true);
  });

  it('when two different documents are both named factura.pdf, then Storage keeps two objects and each link leads to its own', async () => {
    const files = [
      Buffer.from(`%PDF-1.4 factura A ${randomBytes(8).toString('hex')}`),
      Buffer.from(`%PDF-1.4 factura B ${randomBytes(8).toString('hex')}`),
    ];
    const wamids: string[] = [];
    for (const bytes of files) {
      const added = rig.sim.addMedia({ bytes, mimeType: 'application/pdf', filename: 'factura.pdf' });
      const message = documentMessage({
        from: nextPhone(),
        timestamp: ts(),
        mediaId: added.id,
        sha256: added.sha256,
        filename: 'factura.pdf',
      });
      expect((await rig.router.postWebhook(inboundEnvelope(message))).status).toBe(200);
      wamids.push(message.id);
    }
    await rig.settleMedia();

    const rows = await Promise.all(wamids.map(rowOf));
    expect(rows.map((r) => r.job_estado)).toEqual(['hecho', 'hecho']);
    expect(new Set(rows.map((r) => r.storage_key)).size).toBe(2);
    expect([...storage.objects.keys()].filter((k) => k.endsWith('/factura.pdf'))).toHaveLength(2);
    expect(rows.map((r) => r.media_url)).toEqual(rows.map((r) => linkFor(r.id, 'factura.pdf')));
    for (const [i, row] of rows.entries()) {
      expect(crmName(row.media_url!)).toBe('factura.pdf');
      expect((await download(row.media_url!)).bytes.equals(files[i]!)).toBe(true);
    }
  });

  it('when the bucket is missing, then the job is kept for a retry (no media_error yet), the link opened meanwhile waits, and the retry once the bucket exists answers it', async () => {
    storage.deleteBucket(BUCKET);
    const bytes = randomBytes(2_000);
    const added = rig.sim.addMedia({ bytes, mimeType: 'video/mp4' });
    const message = videoMessage({ from: nextPhone(), timestamp: ts(), mediaId: added.id, sha256: added.sha256 });
    expect((await rig.router.postWebhook(inboundEnvelope(message))).status).toBe(200);
    await rig.settleMedia();

    const job = await withClient(
      async (c) => (await c.query('SELECT estado, intentos, error, url FROM router_media_jobs')).rows[0],
    );
    expect(job).toEqual({
      estado: 'pendiente',
      intentos: 1,
      error: 'store_failed: supabase storage upload: 404 Bucket not found',
      url: null,
    });
    const pending = await rowOf(message.id);
    // The link was written with the message and stays while the job waits for its retry.
    expect(pending).toMatchObject({
      media_url: linkFor(pending.id, 'video.mp4'),
      media_type: 'video',
      media_error: null,
    });

    const looks = watchLinkLooks(rig.router.runtime.db, pending.id);
    try {
      const answer = download(pending.media_url!);
      // The route has looked twice: the request is waiting, not answered.
      await Promise.race([
        looks.reached(2),
        answer.then((r) => {
          throw new Error(`the link answered ${r.status} instead of waiting`);
        }),
      ]);
      // The operator creates the bucket; the retry is due (its backoff is skipped rather than waited out).
      storage.createBucket(BUCKET);
      await withClient((c) => c.query('UPDATE router_media_jobs SET disponible_at = now()'));
      await rig.settleMedia();
      const served = await answer;
      expect(served).toMatchObject({ status: 200, type: 'video/mp4', redirected: true });
      expect(served.bytes.equals(bytes)).toBe(true);
    } finally {
      looks.restore();
    }
    const row = await rowOf(message.id);
    expect(row).toMatchObject({
      job_estado: 'hecho',
      media_error: null,
      media_sha256: sha256Hex(bytes),
      media_url: pending.media_url,
    });
    expect(rig.sim.mediaCounters).toEqual({ lookups: 2, downloads: 2, served: 2 });
  });

  it('when the upload keeps failing until the last attempt, then the message keeps media_error, loses its link, and the link answers 404', async () => {
    storage.deleteBucket(BUCKET);
    const added = rig.sim.addMedia({ bytes: randomBytes(500), mimeType: 'image/webp' });
    const message = stickerMessage({ from: nextPhone(), timestamp: ts(), mediaId: added.id, sha256: added.sha256 });
    expect((await rig.router.postWebhook(inboundEnvelope(message))).status).toBe(200);
    await rig.settleMedia();
    const pending = await rowOf(message.id);
    expect(pending).toMatchObject({
      tipo: 'sticker',
      mensaje: '[Sticker]',
      media_type: 'image',
      media_url: linkFor(pending.id, 'sticker.webp'),
      job_estado: 'pendiente',
    });

    // The second attempt is the last (MEDIA_MAX_ATTEMPTS=2); its backoff is skipped rather than waited out.
    await withClient((c) => c.query('UPDATE router_media_jobs SET disponible_at = now()'));
    await rig.settleMedia();
    const row = await rowOf(message.id);
    expect(row).toMatchObject({
      job_estado: 'fallido',
      media_url: null,
      media_error: 'store_failed: supabase storage upload: 404 Bucket not found',
      job_url: null,
    });
    const res = await fetch(pending.media_url!, { redirect: 'manual' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: unknown }).error).toEqual({
      code: 'MEDIA_NOT_FOUND',
      message: 'no file is kept for this message',
    });
  });

  describe('the store on its own', () => {
    const options = (o: Partial<SupabaseStoreOptions> = {}): SupabaseStoreOptions => ({
      ...storeOptions(storage),
      ...o,
    });
    /** The store takes files from the downloader's spool: one on disk with these bytes. */
    const spooled = (bytes: Buffer) => {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'psi-spool-')), 'file.part');
      writeFileSync(file, bytes);
      return { path: file, size: bytes.length };
    };

    it('when a public bucket is used, then the URL is the public object URL and serves the bytes', async () => {
      storage.createBucket('public-media', { public: true });
      const bytes = randomBytes(1_000);
      const stored = await new SupabaseStore(options({ bucket: 'public-media', publicBucket: true })).put(
        '2025/01/abc/sticker.webp',
        spooled(bytes),
        'image/webp',
      );
      expect(stored).toEqual({
        key: '2025/01/abc/sticker.webp',
        url: `${storage.url}/storage/v1/object/public/public-media/2025/01/abc/sticker.webp`,
      });
      const served = await download(stored.url);
      expect(served).toMatchObject({ status: 200, type: 'image/webp' });
      expect(served.bytes.equals(bytes)).toBe(true);
    });

    it.each([
      ['409', false],
      ['HTTP 400 with statusCode 409 (older Storage)', true],
    ])(
      'when a retried job uploads the same key again and Storage answers %s, then the object is kept and a URL is still returned',
      async (_label, legacy) => {
        storage.setLegacyErrors(legacy);
        const store = new SupabaseStore(options());
        const bytes = randomBytes(1_000);
        await store.put('2025/01/retry/audio.ogg', spooled(bytes), 'audio/ogg');
        const again = await store.put('2025/01/retry/audio.ogg', spooled(bytes), 'audio/ogg');
        expect(storage.objects.get(`${BUCKET}/2025/01/retry/audio.ogg`)).toMatchObject({ uploads: 2 });
        expect((await download(again.url)).bytes.equals(bytes)).toBe(true);
      },
    );

    it('when the service key is wrong, then put fails with MEDIA_STORE_FAILED and the key is not in the message', async () => {
      const err = await new SupabaseStore(options({ serviceRoleKey: 'wrong-key' }))
        .put('2025/01/k/image.jpg', spooled(randomBytes(10)), 'image/jpeg')
        .catch((e: unknown) => e);
      expect(isAppError(err) && err.code).toBe('MEDIA_STORE_FAILED');
      expect((err as Error).message).toBe('supabase storage upload: 403 Invalid Compact JWS');
      expect((err as Error).message).not.toContain(storage.serviceKey);
    });
  });
});

function storeOptions(storage: FakeSupabaseStorage): SupabaseStoreOptions {
  return {
    url: storage.url,
    serviceRoleKey: storage.serviceKey,
    bucket: BUCKET,
    publicBucket: false,
    signedUrlTtlS: 3600,
    timeoutMs: 5_000,
  };
}

describe('media pipeline with a public Supabase bucket', () => {
  let storage: FakeSupabaseStorage;
  let rig: RoutingRig;
  beforeAll(async () => {
    await resetDatabase();
    storage = await startFakeSupabaseStorage();
    storage.createBucket(BUCKET, { public: true });
    rig = await startRoutingRig(supabaseEnv(storage, { SUPABASE_STORAGE_PUBLIC: 'true' }), { statuses: false });
  });
  afterAll(async () => {
    await rig?.close();
    await storage?.close();
  });

  it('when an audio arrives, then its message link redirects to the public object URL, which serves the same bytes', async () => {
    const bytes = Buffer.concat([Buffer.from('OggS'), randomBytes(4_000)]);
    const added = rig.sim.addMedia({ bytes, mimeType: 'audio/ogg' });
    const audio = audioMessage({
      from: nextPhone(),
      timestamp: ts(),
      mediaId: added.id,
      sha256: added.sha256,
      mimeType: 'audio/ogg',
    });
    expect((await rig.router.postWebhook(inboundEnvelope(audio))).status).toBe(200);
    await rig.settleMedia();

    const row = await rowOf(audio.id);
    expect(row).toMatchObject({
      mensaje: '[Audio]',
      media_type: 'audio',
      media_filename: 'audio.ogg',
      job_estado: 'hecho',
    });
    expect(row.media_url).toBe(`${rig.router.url}/media/${row.id}/audio.ogg`);
    expect(row.job_url).toBe(`${storage.url}/storage/v1/object/public/${BUCKET}/${row.storage_key}`);
    expect(await linkAnswer(row.media_url!)).toEqual({ status: 302, location: row.job_url });
    const served = await download(row.media_url!);
    expect(served).toMatchObject({ status: 200, type: 'audio/ogg', redirected: true, finalUrl: row.job_url });
    expect(served.bytes.equals(bytes)).toBe(true);
    // Upload only: a public bucket needs no signing call.
    expect(storage.requests.map((r) => `${r.method} ${r.status} ${r.path.split('/').slice(0, 5).join('/')}`)).toEqual([
      `POST 200 /storage/v1/object/${BUCKET}`,
      'GET 200 /storage/v1/object/public',
    ]);
  });
});
