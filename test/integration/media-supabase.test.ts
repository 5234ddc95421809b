import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { SupabaseStore, type SupabaseStoreOptions } from '../../src/media/supabase-store.js';
import { documentMessage, imageMessage, inboundEnvelope, videoMessage } from '../fixtures/whatsapp/builders.js';
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
  media_url: string | null;
  media_type: string | null;
  media_size: string | null;
  media_sha256: string | null;
  media_error: string | null;
  storage: string | null;
  storage_key: string | null;
  job_estado: string | null;
}

const rowOf = (wamid: string) =>
  withClient(async (c) => {
    const res = await c.query<Row>(
      `SELECT m.media_url, m.media_type, m.media_size::text, m.media_sha256, m.media_error, j.storage, j.storage_key, j.estado AS job_estado
         FROM mensajes m LEFT JOIN router_media_jobs j ON j.mensaje_id = m.id WHERE m.whatsapp_message_id = $1`,
      [wamid],
    );
    return res.rows[0]!;
  });

const download = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
};

describe('media pipeline with MEDIA_STORAGE=supabase (real @supabase/supabase-js against a local Storage API)', () => {
  let storage: FakeSupabaseStorage;
  let rig: RoutingRig;

  beforeAll(async () => {
    await resetDatabase();
    storage = await startFakeSupabaseStorage();
    storage.createBucket(BUCKET);
    rig = await startRoutingRig(
      {
        MEDIA_STORAGE: 'supabase',
        SUPABASE_URL: storage.url,
        SUPABASE_SERVICE_ROLE_KEY: storage.serviceKey,
        SUPABASE_STORAGE_BUCKET: BUCKET,
        MEDIA_URL_TTL_S: '3600',
        MEDIA_POLL_MS: '50',
      },
      { statuses: false },
    );
  });
  afterAll(async () => {
    await rig?.close();
    await storage?.close();
  });
  beforeEach(async () => {
    await rig.reset();
    storage.reset();
  });

  it('when an image arrives, then it is uploaded once and media_url is a signed URL that returns the same bytes', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(50_000)]);
    const added = rig.sim.addMedia({ bytes, mimeType: 'image/jpeg' });
    const message = imageMessage({ from: nextPhone(), timestamp: ts(), mediaId: added.id, sha256: added.sha256 });
    expect((await rig.router.postWebhook(inboundEnvelope(message))).status).toBe(200);
    await rig.settleMedia();

    const row = await rowOf(message.id);
    expect(row).toMatchObject({ storage: 'supabase', job_estado: 'hecho', media_type: 'image/jpeg', media_size: String(bytes.length), media_sha256: sha256Hex(bytes), media_error: null });
    expect(row.storage_key).toMatch(/^\d{4}\/\d{2}\/[0-9a-f-]{36}\/image\.jpg$/);
    expect(row.media_url!.startsWith(`${storage.url}/storage/v1/object/sign/${BUCKET}/${row.storage_key}?token=`)).toBe(true);

    const stored = storage.objects.get(`${BUCKET}/${row.storage_key}`);
    expect(stored).toMatchObject({ contentType: 'image/jpeg', uploads: 1 });
    expect(stored!.bytes.equals(bytes)).toBe(true);
    const served = await download(row.media_url!);
    expect(served).toMatchObject({ status: 200, type: 'image/jpeg' });
    expect(served.bytes.equals(bytes)).toBe(true);
    // Only the two API calls the client makes; the service key went with both (else 403).
    expect(storage.requests.map((r) => `${r.method} ${r.status} ${r.path.split('/').slice(0, 5).join('/')}`)).toEqual([
      `POST 200 /storage/v1/object/${BUCKET}`,
      'POST 200 /storage/v1/object/sign',
      'GET 200 /storage/v1/object/sign',
    ]);
  });

  it('when two different documents are both named factura.pdf, then Storage keeps two objects and both are intact', async () => {
    const files = [Buffer.from(`%PDF-1.4 factura A ${randomBytes(8).toString('hex')}`), Buffer.from(`%PDF-1.4 factura B ${randomBytes(8).toString('hex')}`)];
    const wamids: string[] = [];
    for (const bytes of files) {
      const added = rig.sim.addMedia({ bytes, mimeType: 'application/pdf', filename: 'factura.pdf' });
      const message = documentMessage({ from: nextPhone(), timestamp: ts(), mediaId: added.id, sha256: added.sha256, filename: 'factura.pdf' });
      expect((await rig.router.postWebhook(inboundEnvelope(message))).status).toBe(200);
      wamids.push(message.id);
    }
    await rig.settleMedia();

    const rows = await Promise.all(wamids.map(rowOf));
    expect(rows.map((r) => r.job_estado)).toEqual(['hecho', 'hecho']);
    expect(new Set(rows.map((r) => r.storage_key)).size).toBe(2);
    expect([...storage.objects.keys()].filter((k) => k.endsWith('/factura.pdf'))).toHaveLength(2);
    for (const [i, row] of rows.entries()) {
      expect((await download(row.media_url!)).bytes.equals(files[i]!)).toBe(true);
    }
  });

  it('when the bucket is missing, then the job is kept for a retry (no media_error yet) and succeeds once the bucket exists', async () => {
    storage.deleteBucket(BUCKET);
    const bytes = randomBytes(2_000);
    const added = rig.sim.addMedia({ bytes, mimeType: 'video/mp4' });
    const message = videoMessage({ from: nextPhone(), timestamp: ts(), mediaId: added.id, sha256: added.sha256 });
    expect((await rig.router.postWebhook(inboundEnvelope(message))).status).toBe(200);
    await rig.settleMedia();

    const job = await withClient(async (c) => (await c.query('SELECT estado, intentos, error FROM router_media_jobs')).rows[0]);
    expect(job).toEqual({ estado: 'pendiente', intentos: 1, error: 'store_failed: supabase storage upload: 404 Bucket not found' });
    expect(await rowOf(message.id)).toMatchObject({ media_url: null, media_error: null });

    // The operator creates the bucket; the retry is due (its backoff is skipped rather than waited out).
    storage.createBucket(BUCKET);
    await withClient((c) => c.query('UPDATE router_media_jobs SET disponible_at = now()'));
    await rig.settleMedia();
    const row = await rowOf(message.id);
    expect(row).toMatchObject({ job_estado: 'hecho', media_error: null, media_sha256: sha256Hex(bytes) });
    expect((await download(row.media_url!)).bytes.equals(bytes)).toBe(true);
    expect(rig.sim.mediaCounters).toEqual({ lookups: 2, downloads: 2, served: 2 });
  });

  describe('the store on its own', () => {
    const options = (o: Partial<SupabaseStoreOptions> = {}): SupabaseStoreOptions => ({ ...storeOptions(storage), ...o });

    it('when a public bucket is used, then the URL is the public object URL and serves the bytes', async () => {
      storage.createBucket('public-media', { public: true });
      const bytes = randomBytes(1_000);
      const stored = await new SupabaseStore(options({ bucket: 'public-media', publicBucket: true })).put('2025/01/abc/sticker.webp', bytes, 'image/webp');
      expect(stored).toEqual({ key: '2025/01/abc/sticker.webp', url: `${storage.url}/storage/v1/object/public/public-media/2025/01/abc/sticker.webp` });
      const served = await download(stored.url);
      expect(served).toMatchObject({ status: 200, type: 'image/webp' });
      expect(served.bytes.equals(bytes)).toBe(true);
    });

    it.each([
      ['409', false],
      ['HTTP 400 with statusCode 409 (older Storage)', true],
    ])('when a retried job uploads the same key again and Storage answers %s, then the object is kept and a URL is still returned', async (_label, legacy) => {
      storage.setLegacyErrors(legacy);
      const store = new SupabaseStore(options());
      const bytes = randomBytes(1_000);
      await store.put('2025/01/retry/audio.ogg', bytes, 'audio/ogg');
      const again = await store.put('2025/01/retry/audio.ogg', bytes, 'audio/ogg');
      expect(storage.objects.get(`${BUCKET}/2025/01/retry/audio.ogg`)).toMatchObject({ uploads: 2 });
      expect((await download(again.url)).bytes.equals(bytes)).toBe(true);
    });

    it('when the service key is wrong, then put fails with MEDIA_STORE_FAILED and the key is not in the message', async () => {
      const err = await new SupabaseStore(options({ serviceRoleKey: 'wrong-key' })).put('2025/01/k/image.jpg', randomBytes(10), 'image/jpeg').catch((e: unknown) => e);
      expect(isAppError(err) && err.code).toBe('MEDIA_STORE_FAILED');
      expect((err as Error).message).toBe('supabase storage upload: 403 Invalid Compact JWS');
      expect((err as Error).message).not.toContain(storage.serviceKey);
    });
  });
});

function storeOptions(storage: FakeSupabaseStorage): SupabaseStoreOptions {
  return { url: storage.url, serviceRoleKey: storage.serviceKey, bucket: BUCKET, publicBucket: false, signedUrlTtlS: 3600, timeoutMs: 5_000 };
}
