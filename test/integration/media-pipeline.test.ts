import { randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signMediaPath } from '../../src/media/media-url-signer.js';
import {
  audioMessage,
  documentMessage,
  imageMessage,
  inboundEnvelope,
  stickerMessage,
  videoMessage,
  type MetaMessage,
} from '../fixtures/whatsapp/builders.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { SIM_TOKEN, startRoutingRig, type RoutingRig } from '../helpers/routing-bench.js';
import { startGraphSimulator } from '../../src/simulator/graph-simulator.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

const SECRET = 'media-pipeline-test-secret';
const IMAGE_LIMIT = 64 * 1024;
let clock = Math.floor(Date.now() / 1000) - 600;
const ts = () => (clock += 1);
let phoneSeq = 0;
/** A customer per message, so each media message is the first of its conversation. */
const nextPhone = () => `54911777${String((phoneSeq += 1)).padStart(5, '0')}`;

interface MediaRow {
  whatsapp_message_id: string;
  mensaje: string | null;
  media_id: string | null;
  media_url: string | null;
  media_type: string | null;
  media_filename: string | null;
  media_size: string | null;
  media_sha256: string | null;
  media_error: string | null;
  job_estado: string | null;
  job_intentos: number | null;
  storage: string | null;
  storage_key: string | null;
}

async function mediaRow(wamid: string): Promise<MediaRow | undefined> {
  return withClient(async (c) => {
    const res = await c.query<MediaRow>(
      `SELECT m.whatsapp_message_id, m.mensaje, m.media_id, m.media_url, m.media_type, m.media_filename, m.media_size::text,
              m.media_sha256, m.media_error, j.estado AS job_estado, j.intentos AS job_intentos, j.storage, j.storage_key
         FROM mensajes m LEFT JOIN router_media_jobs j ON j.mensaje_id = m.id
        WHERE m.whatsapp_message_id = $1`,
      [wamid],
    );
    return res.rows[0];
  });
}

const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A file that looks like its type (magic bytes first) with random content, so every file differs. */
const fileOf = (magic: string, size: number) => Buffer.concat([Buffer.from(magic, 'latin1'), randomBytes(size)]);

describe('media pipeline: webhook → Graph simulator → local disk → signed /media link', () => {
  let rig: RoutingRig;
  let dataDir: string;
  const logLines: string[] = [];

  /** Adds the file to the simulator, posts the signed webhook carrying its id and checksum, waits for the download. */
  async function receive(
    build: (o: { from: string; timestamp: number; mediaId: string; sha256: string; mimeType: string; filename?: string }) => MetaMessage,
    file: { bytes: Buffer; mimeType: string; filename?: string },
  ) {
    const added = rig.sim.addMedia(file);
    const message = build({
      from: nextPhone(),
      timestamp: ts(),
      mediaId: added.id,
      sha256: added.sha256,
      mimeType: file.mimeType,
      ...(file.filename !== undefined ? { filename: file.filename } : {}),
    });
    const res = await rig.router.postWebhook(inboundEnvelope(message));
    expect(res.status).toBe(200);
    await rig.settleMedia();
    return { added, wamid: message.id };
  }

  const fetchLink = async (link: string) => {
    const res = await fetch(new URL(link, rig.router.url));
    return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
  };

  beforeAll(async () => {
    await resetDatabase();
    dataDir = mkdtempSync(path.join(tmpdir(), 'psi-media-'));
    rig = await startRoutingRig(
      { DATA_DIR: dataDir, MEDIA_URL_SECRET: SECRET, MEDIA_POLL_MS: '50', MEDIA_MAX_BYTES_IMAGE: `${IMAGE_LIMIT}`, MEDIA_MAX_ATTEMPTS: '2', LOG_LEVEL: 'info' },
      { statuses: false, logLines },
    );
  });
  afterAll(async () => {
    await rig?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  beforeEach(() => rig.reset());

  it.each([
    { type: 'image', build: imageMessage, mimeType: 'image/jpeg', magic: '\xff\xd8\xff\xe0', storedName: 'image.jpg' },
    { type: 'audio (voice note)', build: (o: Parameters<typeof audioMessage>[0]) => audioMessage({ ...o, voice: true }), mimeType: 'audio/ogg; codecs=opus', magic: 'OggS', storedName: 'audio.ogg' },
    { type: 'video', build: videoMessage, mimeType: 'video/mp4', magic: '\x00\x00\x00\x18ftypmp42', storedName: 'video.mp4' },
    { type: 'document', build: documentMessage, mimeType: 'application/pdf', magic: '%PDF-1.7', filename: 'Inscripción 2025 (firmada).pdf', storedName: 'Inscripcion-2025-firmada-.pdf' },
    { type: 'sticker', build: stickerMessage, mimeType: 'image/webp', magic: 'RIFF\x00\x00\x00\x00WEBP', storedName: 'sticker.webp' },
  ])('when a customer sends $type, then the stored file has the simulator bytes and the message records URL, mime, size and name', async (c) => {
    const bytes = fileOf(c.magic, 40_000);
    const { added, wamid } = await receive(c.build, { bytes, mimeType: c.mimeType, ...(c.filename ? { filename: c.filename } : {}) });

    const row = await mediaRow(wamid);
    expect(row).toMatchObject({
      media_id: added.id,
      media_type: c.mimeType,
      media_size: String(bytes.length),
      media_sha256: sha256Hex(bytes),
      media_error: null,
      job_estado: 'hecho',
      job_intentos: 1,
      storage: 'local',
      // The customer's own name is kept for documents; other media is named after the stored file.
      media_filename: c.filename ?? c.storedName,
    });
    expect(row!.storage_key).toMatch(new RegExp(`^\\d{4}/\\d{2}/[0-9a-f-]{36}/${c.storedName.replace(/[.()]/g, '\\$&')}$`));
    expect(row!.media_url).toMatch(new RegExp(`^/media/${row!.storage_key}\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
    expect(readFileSync(path.join(dataDir, 'media', row!.storage_key!)).equals(bytes)).toBe(true);

    const served = await fetchLink(row!.media_url!);
    expect(served.status).toBe(200);
    expect(served.bytes.equals(bytes)).toBe(true);
    expect(rig.sim.mediaCounters).toEqual({ lookups: 1, downloads: 1, served: 1 });
  });

  it('when two different documents are both named factura.pdf, then two files are kept and both are intact', async () => {
    const first = fileOf('%PDF-1.4 A', 20_000);
    const second = fileOf('%PDF-1.4 B', 30_000);
    const a = await receive(documentMessage, { bytes: first, mimeType: 'application/pdf', filename: 'factura.pdf' });
    const b = await receive(documentMessage, { bytes: second, mimeType: 'application/pdf', filename: 'factura.pdf' });

    const rowA = (await mediaRow(a.wamid))!;
    const rowB = (await mediaRow(b.wamid))!;
    expect(rowA.storage_key).toMatch(/\/factura\.pdf$/);
    expect(rowB.storage_key).toMatch(/\/factura\.pdf$/);
    expect(rowA.storage_key).not.toBe(rowB.storage_key);
    expect((await fetchLink(rowA.media_url!)).bytes.equals(first)).toBe(true);
    expect((await fetchLink(rowB.media_url!)).bytes.equals(second)).toBe(true);
    expect([rowA.media_filename, rowB.media_filename]).toEqual(['factura.pdf', 'factura.pdf']);
  });

  it('when the download URL has expired by the time it is used, then the id is looked up exactly once more and the file is stored', async () => {
    rig.sim.expireNextMediaUrls(1);
    const bytes = fileOf('\xff\xd8\xff\xe0', 10_000);
    const { wamid } = await receive(imageMessage, { bytes, mimeType: 'image/jpeg' });

    expect(rig.sim.mediaCounters).toEqual({ lookups: 2, downloads: 2, served: 1 });
    const row = (await mediaRow(wamid))!;
    expect(row).toMatchObject({ job_estado: 'hecho', job_intentos: 1, media_error: null, media_sha256: sha256Hex(bytes) });
    expect((await fetchLink(row.media_url!)).bytes.equals(bytes)).toBe(true);
  });

  it('when the media id no longer exists at Meta, then the message is kept with media_error and the job fails without retrying', async () => {
    const added = rig.sim.addMedia({ bytes: fileOf('%PDF', 1000), mimeType: 'application/pdf', filename: 'recibo.pdf' });
    rig.sim.deleteMedia(added.id);
    const message = documentMessage({ from: nextPhone(), timestamp: ts(), mediaId: added.id, sha256: added.sha256, filename: 'recibo.pdf', caption: 'Te mando el recibo' });
    expect((await rig.router.postWebhook(inboundEnvelope(message))).status).toBe(200);
    await rig.settleMedia();

    const row = (await mediaRow(message.id))!;
    expect(row).toMatchObject({ mensaje: 'Te mando el recibo', media_id: added.id, media_filename: 'recibo.pdf', media_url: null, job_estado: 'fallido', job_intentos: 1 });
    expect(row.media_error).toMatch(/^media_not_found: Graph 404 Unsupported get request\. Object with ID '\d+' does not exist/);
    expect(rig.sim.mediaCounters).toEqual({ lookups: 1, downloads: 0, served: 0 });
  });

  it('when a file is over its type limit, then nothing is downloaded and the message gets a too_large media_error', async () => {
    const bytes = fileOf('\xff\xd8\xff\xe0', IMAGE_LIMIT + 1000);
    const { wamid } = await receive(imageMessage, { bytes, mimeType: 'image/jpeg' });

    const row = (await mediaRow(wamid))!;
    expect(row).toMatchObject({ media_url: null, job_estado: 'fallido', job_intentos: 1 });
    expect(row.media_error).toBe(`too_large: ${bytes.length} bytes > ${IMAGE_LIMIT} for image`);
    expect(rig.sim.mediaCounters).toEqual({ lookups: 1, downloads: 0, served: 0 });
  });

  /** Skips the backoff of jobs waiting for a retry (instead of sleeping through it). */
  const retryNow = async () => {
    await withClient((c) => c.query(`UPDATE router_media_jobs SET disponible_at = now() WHERE estado = 'pendiente'`));
    await rig.settleMedia();
  };
  const jobs = () => withClient(async (c) => (await c.query('SELECT estado, intentos, error FROM router_media_jobs ORDER BY id')).rows);

  it('when the Graph API is down, then the job is retried with backoff and succeeds once it is back', async () => {
    rig.sim.setDown(true);
    const bytes = fileOf('\x00\x00\x00\x18ftypmp42', 3_000);
    const { wamid } = await receive(videoMessage, { bytes, mimeType: 'video/mp4' });
    expect(await jobs()).toEqual([{ estado: 'pendiente', intentos: 1, error: expect.stringMatching(/^download_failed: Graph 503 \(transient\)/) }]);
    expect((await mediaRow(wamid))!.media_error).toBeNull();

    rig.sim.setDown(false);
    await retryNow();
    const row = (await mediaRow(wamid))!;
    expect(row).toMatchObject({ job_estado: 'hecho', job_intentos: 2, media_error: null, media_sha256: sha256Hex(bytes) });
  });

  it('when the downloaded bytes do not match the SHA-256 in the webhook, then nothing is stored and the last attempt records sha256_mismatch', async () => {
    const bytes = fileOf('\xff\xd8\xff\xe0', 3_000);
    const added = rig.sim.addMedia({ bytes, mimeType: 'image/jpeg' });
    const wrongSha = createHash('sha256').update('some other file').digest('base64');
    const message = imageMessage({ from: nextPhone(), timestamp: ts(), mediaId: added.id, sha256: wrongSha });
    expect((await rig.router.postWebhook(inboundEnvelope(message))).status).toBe(200);
    await rig.settleMedia();
    expect(await jobs()).toEqual([{ estado: 'pendiente', intentos: 1, error: expect.stringMatching(/^sha256_mismatch: /) }]);

    await retryNow();
    const row = (await mediaRow(message.id))!;
    expect(row).toMatchObject({ job_estado: 'fallido', job_intentos: 2, media_url: null, storage_key: null });
    expect(row.media_error).toBe('sha256_mismatch: downloaded 3004 bytes do not hash to the SHA-256 Meta published');
  });

  it('when the same media message is delivered twice, then it is downloaded once', async () => {
    const bytes = fileOf('OggS', 5_000);
    const added = rig.sim.addMedia({ bytes, mimeType: 'audio/ogg' });
    const body = inboundEnvelope(audioMessage({ from: nextPhone(), timestamp: ts(), mediaId: added.id, sha256: added.sha256, mimeType: 'audio/ogg' }));
    expect((await rig.router.postWebhook(body)).status).toBe(200);
    expect((await rig.router.postWebhook(body)).status).toBe(200);
    await rig.settleMedia();

    expect(rig.sim.mediaCounters).toEqual({ lookups: 1, downloads: 1, served: 1 });
    expect(await withClient(async (c) => (await c.query('SELECT estado FROM router_media_jobs')).rows)).toEqual([{ estado: 'hecho' }]);
  });

  it('when a stored link is tampered with or has expired, then /media refuses it with 403 and serves nothing', async () => {
    const bytes = fileOf('\xff\xd8\xff\xe0', 2_000);
    const { wamid } = await receive(imageMessage, { bytes, mimeType: 'image/jpeg' });
    const row = (await mediaRow(wamid))!;
    const link = new URL(row.media_url!, rig.router.url);

    const tamperedSig = new URL(link);
    const sig = tamperedSig.searchParams.get('sig')!;
    tamperedSig.searchParams.set('sig', `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`);
    const longerExp = new URL(link);
    longerExp.searchParams.set('exp', String(Number(link.searchParams.get('exp')) + 60));
    const unsigned = new URL(link.pathname, rig.router.url);
    const expired = new URL(signMediaPath(SECRET, row.storage_key!, -60), rig.router.url);

    for (const [url, message] of [
      [tamperedSig, 'media link signature invalid'],
      [longerExp, 'media link signature invalid'],
      [unsigned, 'media link signature invalid'],
      [expired, 'media link expired'],
    ] as const) {
      const res = await fetch(url);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: unknown }).error).toEqual({ code: 'MEDIA_LINK_INVALID', message });
    }
    expect((await fetchLink(row.media_url!)).status).toBe(200);
  });

  it('when a validly signed link points outside the media folder, then nothing outside it is served', async () => {
    writeFileSync(path.join(dataDir, 'outside.txt'), 'not for the CRM');
    const linkPath = signMediaPath(SECRET, '../outside.txt', 60);
    // node:http sends the path as written (fetch would normalise the `..` away before sending).
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(rig.router.url);
      request({ host: url.hostname, port: url.port, path: linkPath }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(404);
  });

  it('when media flows through, then no log line carries the access token, a download link or a file name', async () => {
    logLines.length = 0;
    await receive(documentMessage, { bytes: fileOf('%PDF', 3_000), mimeType: 'application/pdf', filename: 'DNI Juana Pérez.pdf' });
    const mediaLines = logLines.filter((l) => l.includes('"module":"media"'));
    expect(mediaLines.some((l) => l.includes('"msg":"media stored"'))).toBe(true);
    for (const line of logLines) {
      expect(line).not.toContain(SIM_TOKEN);
      expect(line).not.toContain('hash=');
      expect(line).not.toContain('sig=');
      expect(line).not.toMatch(/Juana|DNI/);
    }
  });
});

describe('media pipeline switched off', () => {
  let router: RunningRouter | null = null;
  afterAll(async () => {
    await router?.stop();
  });

  it.each([
    ['MEDIA_STORAGE=off', { MEDIA_STORAGE: 'off', WHATSAPP_ACCESS_TOKEN: SIM_TOKEN, WHATSAPP_API_URL: 'http://127.0.0.1:9' }],
    ['no WHATSAPP_ACCESS_TOKEN', { MEDIA_URL_SECRET: SECRET }],
  ])('when %s, then media messages are stored with their media id and no download job is created', async (_label, env) => {
    await resetDatabase();
    router = await startRouter(testConfig(env), { sender: false });
    expect(router.runtime.media).toBeNull();
    const message = imageMessage({ from: nextPhone(), timestamp: ts() });
    expect((await router.postWebhook(inboundEnvelope(message))).status).toBe(200);
    await router.idle();

    const row = await mediaRow(message.id);
    expect(row).toMatchObject({ media_id: (message['image'] as { id: string }).id, media_type: 'image/jpeg', media_url: null, job_estado: null });
    expect(await withClient(async (c) => (await c.query('SELECT count(*)::int AS n FROM router_media_jobs')).rows[0])).toEqual({ n: 0 });
    await router.stop();
    router = null;
  });
});

describe('media job creation cost', () => {
  let router: RunningRouter;
  let dataDir: string;
  beforeAll(async () => {
    await resetDatabase();
    dataDir = mkdtempSync(path.join(tmpdir(), 'psi-media-cost-'));
    // Media on, but no sweeper, sender or downloader running: every statement counted is the message's own.
    router = await startRouter(testConfig({ WHATSAPP_ACCESS_TOKEN: SIM_TOKEN, WHATSAPP_API_URL: 'http://127.0.0.1:9', MEDIA_URL_SECRET: SECRET, DATA_DIR: dataDir }), {
      sweeper: false,
      sender: false,
      media: false,
    });
    await router.runtime.catalog.get();
  });
  afterAll(async () => {
    await router?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('when a media message is processed, then its download job is created inside the completion statement (still 3 round trips)', async () => {
    expect(router.runtime.media).not.toBeNull();
    const message = imageMessage({ from: nextPhone(), timestamp: ts() });
    await router.idle();
    const before = router.runtime.db.statementCount();
    expect((await router.postWebhook(inboundEnvelope(message))).status).toBe(200);
    await router.idle();
    expect(router.runtime.db.statementCount() - before).toBe(3);
    const image = message['image'] as { id: string; sha256: string };
    expect(await withClient(async (c) => (await c.query('SELECT media_id, tipo, mime_type, sha256, filename, estado, intentos FROM router_media_jobs')).rows)).toEqual([
      { media_id: image.id, tipo: 'image', mime_type: 'image/jpeg', sha256: image.sha256, filename: null, estado: 'pendiente', intentos: 0 },
    ]);
  });
});

describe('media pipeline on the embedded PGlite', () => {
  it('when the router runs without DATABASE_URL, then media is downloaded and recorded the same way', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'psi-media-pglite-'));
    const sim = await startGraphSimulator({ accessToken: SIM_TOKEN });
    const router = await startRouter(
      testConfig({ DATABASE_URL: undefined, DATA_DIR: dataDir, WHATSAPP_ACCESS_TOKEN: SIM_TOKEN, WHATSAPP_API_URL: sim.url, MEDIA_POLL_MS: '50' }),
      { sender: false },
    );
    try {
      const bytes = fileOf('%PDF-1.7', 5_000);
      const added = sim.addMedia({ bytes, mimeType: 'application/pdf', filename: 'factura.pdf' });
      const message = documentMessage({ from: nextPhone(), timestamp: ts(), mediaId: added.id, sha256: added.sha256, filename: 'factura.pdf' });
      expect((await router.postWebhook(inboundEnvelope(message))).status).toBe(200);
      await router.idle();
      await router.runtime.media!.whenIdle();

      const res = await router.runtime.db.query<{ media_url: string; media_sha256: string; media_error: string | null; estado: string }>(
        `SELECT m.media_url, m.media_sha256, m.media_error, j.estado FROM mensajes m JOIN router_media_jobs j ON j.mensaje_id = m.id`,
      );
      expect(res.rows).toEqual([{ media_url: expect.stringMatching(/^\/media\/.+\/factura\.pdf\?exp=/), media_sha256: sha256Hex(bytes), media_error: null, estado: 'hecho' }]);
      const served = await fetch(new URL(res.rows[0]!.media_url, router.url));
      expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    } finally {
      await router.stop();
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
