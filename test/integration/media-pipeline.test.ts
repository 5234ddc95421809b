import { crmName, segment, watchLinkLooks } from '../helpers/media-links.js';
import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signMediaPath } from '../../src/media/media-url-signer.js';
import type { Queryable } from '../../src/store/db.js';
import {
  audioMessage,
  documentMessage,
  imageMessage,
  inboundEnvelope,
  stickerMessage,
  textMessage,
  videoMessage,
  type MetaMessage,
} from '../fixtures/whatsapp/builders.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { SIM_TOKEN, startRoutingRig, type RoutingRig } from '../helpers/routing-bench.js';
import { startGraphSimulator } from '../../src/simulator/graph-simulator.js';
import { freePort, startRouter, type RunningRouter } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

const SECRET = 'media-pipeline-test-secret';
const IMAGE_LIMIT = 64 * 1024;
let clock = Math.floor(Date.now() / 1000) - 600;
const ts = () => (clock += 1);
let phoneSeq = 0;
/** A customer per message, so each media message is the first of its conversation. */
const nextPhone = () => `54911777${String((phoneSeq += 1)).padStart(5, '0')}`;

interface MediaRow {
  id: string;
  whatsapp_message_id: string;
  tipo: string;
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
  job_mime_type: string | null;
  storage: string | null;
  storage_key: string | null;
  job_url: string | null;
}

async function mediaRow(wamid: string): Promise<MediaRow | undefined> {
  return withClient(async (c) => {
    const res = await c.query<MediaRow>(
      `SELECT m.id, m.whatsapp_message_id, m.tipo, m.mensaje, m.media_id, m.media_url, m.media_type, m.media_filename,
              m.media_size::text, m.media_sha256, m.media_error, j.estado AS job_estado, j.intentos AS job_intentos,
              j.mime_type AS job_mime_type, j.storage, j.storage_key, j.url AS job_url
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

interface Served {
  status: number;
  type: string | null;
  disposition: string | null;
  bytes: Buffer;
}

const fetchLink = async (link: string): Promise<Served> => {
  const res = await fetch(link, { redirect: 'manual' });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    disposition: res.headers.get('content-disposition'),
    bytes: Buffer.from(await res.arrayBuffer()),
  };
};

/** The answer for a message that has no file kept: 404 MEDIA_NOT_FOUND, at once (it does not wait out MEDIA_LINK_WAIT_MS). */
async function expectNoFile(link: string): Promise<void> {
  const started = Date.now();
  const res = await fetch(link, { redirect: 'manual' });
  expect(res.status).toBe(404);
  expect(((await res.json()) as { error: unknown }).error).toEqual({
    code: 'MEDIA_NOT_FOUND',
    message: 'no file is kept for this message',
  });
  expect(Date.now() - started).toBeLessThan(5_000);
}

describe('media pipeline: webhook → Graph simulator → local disk → the message link /media/<id>/<name>', () => {
  let rig: RoutingRig;
  let dataDir: string;
  const logLines: string[] = [];

  /** Adds the file to the simulator, posts the signed webhook carrying its id and checksum, waits for the download. */
  async function receive(
    build: (o: {
      from: string;
      timestamp: number;
      mediaId: string;
      sha256: string;
      mimeType: string;
      filename?: string;
    }) => MetaMessage,
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

  /** What the context query writes into mensajes.media_url: MEDIA_PUBLIC_URL (the rig's own port) + /media/<id>/<name>. */
  const linkFor = (messageId: string, name: string) => `${rig.router.url}/media/${messageId}/${segment(name)}`;

  beforeAll(async () => {
    await resetDatabase();
    dataDir = mkdtempSync(path.join(tmpdir(), 'psi-media-'));
    rig = await startRoutingRig(
      {
        DATA_DIR: dataDir,
        MEDIA_URL_SECRET: SECRET,
        MEDIA_POLL_MS: '50',
        MEDIA_MAX_BYTES_IMAGE: `${IMAGE_LIMIT}`,
        MEDIA_MAX_ATTEMPTS: '2',
        LOG_LEVEL: 'info',
      },
      { statuses: false, logLines },
    );
  });
  afterAll(async () => {
    await rig?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  beforeEach(() => rig.reset());

  type Build = Parameters<typeof receive>[0];
  it.each<{
    type: string;
    build: Build;
    mimeType: string;
    magic: string;
    filename?: string;
    /** mensajes.tipo, mensajes.media_type (the chat's kind) and mensajes.mensaje. */
    tipo: string;
    kind: string;
    mensaje: string;
    /** The name in media_url / media_filename, and the last segment of the stored key. */
    name: string;
    keyName: string;
    /** The last segment of media_url, as written, when it is worth spelling out. */
    lastSegment?: string;
  }>([
    {
      type: 'image',
      build: imageMessage,
      mimeType: 'image/jpeg',
      magic: '\xff\xd8\xff\xe0',
      tipo: 'image',
      kind: 'image',
      mensaje: '[Imagen]',
      name: 'image.jpg',
      keyName: 'image.jpg',
    },
    {
      type: 'image with a caption',
      build: (o) => imageMessage({ ...o, caption: 'Mirá el comprobante' }),
      mimeType: 'image/png',
      magic: '\x89PNG\r\n\x1a\n',
      tipo: 'image',
      kind: 'image',
      mensaje: 'Mirá el comprobante',
      name: 'image.png',
      keyName: 'image.png',
    },
    {
      type: 'audio (voice note)',
      build: (o) => audioMessage({ ...o, voice: true }),
      mimeType: 'audio/ogg; codecs=opus',
      magic: 'OggS',
      tipo: 'audio',
      kind: 'audio',
      mensaje: '[Audio]',
      name: 'audio.ogg',
      keyName: 'audio.ogg',
    },
    {
      type: 'video',
      build: videoMessage,
      mimeType: 'video/mp4',
      magic: '\x00\x00\x00\x18ftypmp42',
      tipo: 'video',
      kind: 'video',
      mensaje: '[Video]',
      name: 'video.mp4',
      keyName: 'video.mp4',
    },
    {
      type: 'document named with spaces and accents',
      build: documentMessage,
      mimeType: 'application/pdf',
      magic: '%PDF-1.7',
      filename: 'Informe final año.pdf',
      tipo: 'document',
      kind: 'document',
      mensaje: 'Informe final año.pdf',
      name: 'Informe final año.pdf',
      keyName: 'Informe-final-ano.pdf',
      lastSegment: 'Informe%20final%20a%C3%B1o.pdf',
    },
    {
      type: 'document with a caption and parentheses in its name',
      build: (o) => documentMessage({ ...o, caption: 'Te mando la inscripción' }),
      mimeType: 'application/pdf',
      magic: '%PDF-1.7',
      filename: 'Inscripción 2025 (firmada).pdf',
      tipo: 'document',
      kind: 'document',
      mensaje: 'Te mando la inscripción',
      name: 'Inscripción 2025 (firmada).pdf',
      keyName: 'Inscripcion-2025-firmada-.pdf',
      lastSegment: 'Inscripci%C3%B3n%202025%20%28firmada%29.pdf',
    },
    {
      // A slash would split the name the CRM shows (it decodes the whole URL, then splits on '/').
      type: 'document whose name has a slash, # and %',
      build: documentMessage,
      mimeType: 'application/pdf',
      magic: '%PDF-1.7',
      filename: 'Recibo #3 03/2025 100%.pdf',
      tipo: 'document',
      kind: 'document',
      mensaje: 'Recibo #3 03/2025 100%.pdf',
      name: 'Recibo #3 03_2025 100%.pdf',
      keyName: '2025-100-.pdf',
      lastSegment: 'Recibo%20%233%2003_2025%20100%25.pdf',
    },
    {
      type: 'sticker',
      build: stickerMessage,
      mimeType: 'image/webp',
      magic: 'RIFF\x00\x00\x00\x00WEBP',
      tipo: 'sticker',
      kind: 'image',
      mensaje: '[Sticker]',
      name: 'sticker.webp',
      keyName: 'sticker.webp',
    },
  ])(
    'when a customer sends $type, then media_url is the message link, it serves the simulator bytes, and the row has what the chat renders',
    async (c) => {
      const bytes = fileOf(c.magic, 40_000);
      const { added, wamid } = await receive(c.build, {
        bytes,
        mimeType: c.mimeType,
        ...(c.filename ? { filename: c.filename } : {}),
      });

      const row = (await mediaRow(wamid))!;
      expect(row).toMatchObject({
        tipo: c.tipo,
        mensaje: c.mensaje,
        media_id: added.id,
        media_type: c.kind,
        media_filename: c.name,
        media_size: String(bytes.length),
        media_sha256: sha256Hex(bytes),
        media_error: null,
        job_estado: 'hecho',
        job_intentos: 1,
        // The MIME type stays on the job (and in the event kept in mensajes.metadata).
        job_mime_type: c.mimeType,
        storage: 'local',
      });
      expect(row.media_url).toBe(linkFor(row.id, c.name));
      expect(crmName(row.media_url!)).toBe(c.name);
      if (c.lastSegment) expect(row.media_url!.slice(row.media_url!.lastIndexOf('/') + 1)).toBe(c.lastSegment);
      // The file on disk is under a safe key; the job keeps the old signed link to it.
      expect(row.storage_key).toMatch(new RegExp(`^\\d{4}/\\d{2}/${row.id}/${c.keyName.replace(/[.()]/g, '\\$&')}$`));
      expect(row.job_url).toMatch(
        new RegExp(`^${rig.router.url}/media/${row.storage_key}\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`),
      );
      expect(readFileSync(path.join(dataDir, 'media', row.storage_key!)).equals(bytes)).toBe(true);

      const served = await fetchLink(row.media_url!);
      // Shown inline by the chat (<img>, <audio>, <video>, a PDF tab): no attachment disposition.
      expect(served).toMatchObject({ status: 200, type: c.mimeType.split(';')[0], disposition: null });
      expect(served.bytes.equals(bytes)).toBe(true);
      expect((await fetchLink(row.job_url!)).bytes.equals(bytes)).toBe(true);
      expect(rig.sim.mediaCounters).toEqual({ lookups: 1, downloads: 1, served: 1 });
    },
  );

  it('when a document a browser must not render arrives, then its link serves it as an attachment, and once the file is gone from disk it answers 404 as plain JSON', async () => {
    const mimeType = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    const bytes = fileOf('PK\x03\x04', 4_000);
    const { wamid } = await receive(documentMessage, { bytes, mimeType, filename: 'Notas de la clase.docx' });
    const row = (await mediaRow(wamid))!;
    expect(row).toMatchObject({
      media_type: 'document',
      media_filename: 'Notas de la clase.docx',
      media_url: linkFor(row.id, 'Notas de la clase.docx'),
      job_estado: 'hecho',
    });
    expect(row.storage_key).toMatch(/\/Notas-de-la-clase\.docx$/);
    const served = await fetchLink(row.media_url!);
    expect(served).toMatchObject({ status: 200, type: mimeType, disposition: 'attachment' });
    expect(served.bytes.equals(bytes)).toBe(true);

    rmSync(path.join(dataDir, 'media', row.storage_key!));
    const res = await fetch(row.media_url!, { redirect: 'manual' });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('content-disposition')).toBeNull();
    expect(((await res.json()) as { error: unknown }).error).toEqual({
      code: 'MEDIA_NOT_FOUND',
      message: 'media could not be read',
    });
  });

  it('when two different documents are both named factura.pdf, then two files are kept and each link serves its own', async () => {
    const first = fileOf('%PDF-1.4 A', 20_000);
    const second = fileOf('%PDF-1.4 B', 30_000);
    const a = await receive(documentMessage, { bytes: first, mimeType: 'application/pdf', filename: 'factura.pdf' });
    const b = await receive(documentMessage, { bytes: second, mimeType: 'application/pdf', filename: 'factura.pdf' });

    const rowA = (await mediaRow(a.wamid))!;
    const rowB = (await mediaRow(b.wamid))!;
    expect(rowA.storage_key).toMatch(/\/factura\.pdf$/);
    expect(rowB.storage_key).toMatch(/\/factura\.pdf$/);
    expect(rowA.storage_key).not.toBe(rowB.storage_key);
    expect([rowA.media_url, rowB.media_url]).toEqual([
      linkFor(rowA.id, 'factura.pdf'),
      linkFor(rowB.id, 'factura.pdf'),
    ]);
    expect([crmName(rowA.media_url!), crmName(rowB.media_url!)]).toEqual(['factura.pdf', 'factura.pdf']);
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
    expect(row).toMatchObject({
      job_estado: 'hecho',
      job_intentos: 1,
      media_error: null,
      media_sha256: sha256Hex(bytes),
      media_url: linkFor(row.id, 'image.jpg'),
    });
    expect((await fetchLink(row.media_url!)).bytes.equals(bytes)).toBe(true);
  });

  it('when the media id no longer exists at Meta, then the message is kept with media_error, no link, and the job fails without retrying', async () => {
    const added = rig.sim.addMedia({
      bytes: fileOf('%PDF', 1000),
      mimeType: 'application/pdf',
      filename: 'recibo.pdf',
    });
    rig.sim.deleteMedia(added.id);
    const message = documentMessage({
      from: nextPhone(),
      timestamp: ts(),
      mediaId: added.id,
      sha256: added.sha256,
      filename: 'recibo.pdf',
      caption: 'Te mando el recibo',
    });
    expect((await rig.router.postWebhook(inboundEnvelope(message))).status).toBe(200);
    await rig.settleMedia();

    const row = (await mediaRow(message.id))!;
    // No media_url: the chat falls back to the text, as it does for any message without a file.
    expect(row).toMatchObject({
      mensaje: 'Te mando el recibo',
      media_id: added.id,
      media_type: 'document',
      media_filename: 'recibo.pdf',
      media_url: null,
      job_estado: 'fallido',
      job_intentos: 1,
    });
    expect(row.media_error).toMatch(
      /^media_not_found: Graph 404 Unsupported get request\. Object with ID '\d+' does not exist/,
    );
    expect(rig.sim.mediaCounters).toEqual({ lookups: 1, downloads: 0, served: 0 });
    // The link the message had until the failure answers 404 at once.
    await expectNoFile(linkFor(row.id, 'recibo.pdf'));
  });

  it('when a file is over its type limit, then nothing is downloaded, the link is cleared and the message gets a too_large media_error', async () => {
    const bytes = fileOf('\xff\xd8\xff\xe0', IMAGE_LIMIT + 1000);
    const { wamid } = await receive(imageMessage, { bytes, mimeType: 'image/jpeg' });

    const row = (await mediaRow(wamid))!;
    expect(row).toMatchObject({
      mensaje: '[Imagen]',
      media_type: 'image',
      media_url: null,
      job_estado: 'fallido',
      job_intentos: 1,
    });
    expect(row.media_error).toBe(`too_large: ${bytes.length} bytes > ${IMAGE_LIMIT} for image`);
    expect(rig.sim.mediaCounters).toEqual({ lookups: 1, downloads: 0, served: 0 });
    await expectNoFile(linkFor(row.id, 'image.jpg'));
  });

  it('when a link names a message without media or no message at all, then it answers 404 MEDIA_NOT_FOUND at once', async () => {
    const text = textMessage({ from: nextPhone(), timestamp: ts() });
    expect((await rig.router.postWebhook(inboundEnvelope(text))).status).toBe(200);
    await rig.settle();
    const row = (await mediaRow(text.id))!;
    expect(row).toMatchObject({ tipo: 'text', media_url: null, media_type: null, job_estado: null });

    await expectNoFile(linkFor(row.id, 'image.jpg'));
    await expectNoFile(linkFor(randomUUID(), 'image.jpg'));
  });

  /** Skips the backoff of jobs waiting for a retry (instead of sleeping through it). */
  const retryNow = async () => {
    await withClient((c) => c.query(`UPDATE router_media_jobs SET disponible_at = now() WHERE estado = 'pendiente'`));
    await rig.settleMedia();
  };
  const jobs = () =>
    withClient(async (c) => (await c.query('SELECT estado, intentos, error FROM router_media_jobs ORDER BY id')).rows);

  it('when the Graph API is down, then the link opened meanwhile waits, and the retry once it is back answers it with the file', async () => {
    rig.sim.setDown(true);
    const bytes = fileOf('\x00\x00\x00\x18ftypmp42', 3_000);
    const { wamid } = await receive(videoMessage, { bytes, mimeType: 'video/mp4' });
    expect(await jobs()).toEqual([
      { estado: 'pendiente', intentos: 1, error: expect.stringMatching(/^download_failed: Graph 503 \(transient\)/) },
    ]);
    const pending = (await mediaRow(wamid))!;
    // The link is in the row from the first instant (the chat renders it at once), no error yet.
    expect(pending).toMatchObject({
      media_url: linkFor(pending.id, 'video.mp4'),
      media_type: 'video',
      media_error: null,
      storage_key: null,
    });

    const looks = watchLinkLooks(rig.router.runtime.db, pending.id);
    try {
      const answer = fetchLink(pending.media_url!);
      // The route has looked twice: the request is waiting, not answered.
      await Promise.race([
        looks.reached(2),
        answer.then((r) => {
          throw new Error(`the link answered ${r.status} instead of waiting`);
        }),
      ]);
      rig.sim.setDown(false);
      await retryNow();
      const served = await answer;
      expect(served).toMatchObject({ status: 200, type: 'video/mp4' });
      expect(served.bytes.equals(bytes)).toBe(true);
    } finally {
      looks.restore();
    }
    const row = (await mediaRow(wamid))!;
    expect(row).toMatchObject({
      job_estado: 'hecho',
      job_intentos: 2,
      media_error: null,
      media_sha256: sha256Hex(bytes),
      media_url: pending.media_url,
    });
  });

  it('when the downloaded bytes do not match the SHA-256 in the webhook, then nothing is stored and the last attempt records sha256_mismatch', async () => {
    const bytes = fileOf('\xff\xd8\xff\xe0', 3_000);
    const added = rig.sim.addMedia({ bytes, mimeType: 'image/jpeg' });
    const wrongSha = createHash('sha256').update('some other file').digest('base64');
    const message = imageMessage({ from: nextPhone(), timestamp: ts(), mediaId: added.id, sha256: wrongSha });
    expect((await rig.router.postWebhook(inboundEnvelope(message))).status).toBe(200);
    await rig.settleMedia();
    expect(await jobs()).toEqual([
      { estado: 'pendiente', intentos: 1, error: expect.stringMatching(/^sha256_mismatch: /) },
    ]);
    const pending = (await mediaRow(message.id))!;
    expect(pending).toMatchObject({ media_url: linkFor(pending.id, 'image.jpg'), media_error: null });

    await retryNow();
    const row = (await mediaRow(message.id))!;
    expect(row).toMatchObject({ job_estado: 'fallido', job_intentos: 2, media_url: null, storage_key: null });
    expect(row.media_error).toBe('sha256_mismatch: downloaded 3004 bytes do not hash to the SHA-256 Meta published');
    await expectNoFile(pending.media_url!);
  });

  it('when the same media message is delivered twice, then it is stored once and downloaded once', async () => {
    const bytes = fileOf('OggS', 5_000);
    const added = rig.sim.addMedia({ bytes, mimeType: 'audio/ogg' });
    const message = audioMessage({
      from: nextPhone(),
      timestamp: ts(),
      mediaId: added.id,
      sha256: added.sha256,
      mimeType: 'audio/ogg',
    });
    const body = inboundEnvelope(message);
    expect((await rig.router.postWebhook(body)).status).toBe(200);
    expect((await rig.router.postWebhook(body)).status).toBe(200);
    await rig.settleMedia();

    expect(rig.sim.mediaCounters).toEqual({ lookups: 1, downloads: 1, served: 1 });
    expect(await withClient(async (c) => (await c.query('SELECT estado FROM router_media_jobs')).rows)).toEqual([
      { estado: 'hecho' },
    ]);
    const rows = await withClient(
      async (c) =>
        (
          await c.query<{ id: string; media_url: string }>(
            'SELECT id, media_url FROM mensajes WHERE whatsapp_message_id = $1',
            [message.id],
          )
        ).rows,
    );
    expect(rows).toEqual([{ id: rows[0]!.id, media_url: linkFor(rows[0]!.id, 'audio.ogg') }]);
    expect((await fetchLink(rows[0]!.media_url)).bytes.equals(bytes)).toBe(true);
  });

  it('when a signed /media/<key> link is tampered with or has expired, then it is refused with 403 and serves nothing', async () => {
    const bytes = fileOf('\xff\xd8\xff\xe0', 2_000);
    const { wamid } = await receive(imageMessage, { bytes, mimeType: 'image/jpeg' });
    const row = (await mediaRow(wamid))!;
    // The store's signed link (kept on the job) still works beside the message link.
    const link = new URL(row.job_url!);
    expect(link.pathname).toBe(`/media/${row.storage_key}`);

    const tamperedSig = new URL(link);
    const sig = tamperedSig.searchParams.get('sig')!;
    tamperedSig.searchParams.set('sig', `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`);
    const longerExp = new URL(link);
    longerExp.searchParams.set('exp', String(Number(link.searchParams.get('exp')) + 60));
    const unsigned = new URL(link.pathname, rig.router.url);
    const expired = new URL(signMediaPath(SECRET, row.storage_key!, -60), rig.router.url);
    const otherSecret = new URL(
      signMediaPath('some-other-secret-of-32-chars-xx', row.storage_key!, 60),
      rig.router.url,
    );

    for (const [url, message] of [
      [tamperedSig, 'media link signature invalid'],
      [longerExp, 'media link signature invalid'],
      [unsigned, 'media link signature invalid'],
      [otherSecret, 'media link signature invalid'],
      [expired, 'media link expired'],
    ] as const) {
      const res = await fetch(url);
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(((await res.json()) as { error: unknown }).error).toEqual({ code: 'MEDIA_LINK_INVALID', message });
    }
    expect((await fetchLink(link.href)).bytes.equals(bytes)).toBe(true);
    expect((await fetchLink(row.media_url!)).bytes.equals(bytes)).toBe(true);
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

  it('when media flows through and its link is opened, then no log line carries the access token, a download link or a file name', async () => {
    logLines.length = 0;
    const bytes = fileOf('%PDF', 3_000);
    const { wamid } = await receive(documentMessage, {
      bytes,
      mimeType: 'application/pdf',
      filename: 'DNI Juana Pérez.pdf',
    });
    const row = (await mediaRow(wamid))!;
    expect(crmName(row.media_url!)).toBe('DNI Juana Pérez.pdf');
    expect((await fetchLink(row.media_url!)).bytes.equals(bytes)).toBe(true);
    await expectNoFile(linkFor(randomUUID(), 'DNI Juana Pérez.pdf'));

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
    [
      'MEDIA_STORAGE=off',
      { MEDIA_STORAGE: 'off', WHATSAPP_ACCESS_TOKEN: SIM_TOKEN, WHATSAPP_API_URL: 'http://127.0.0.1:9' },
    ],
    ['no WHATSAPP_ACCESS_TOKEN', { MEDIA_URL_SECRET: SECRET }],
  ])(
    'when %s, then media messages are stored with their media id and kind, no link and no download job',
    async (_label, env) => {
      await resetDatabase();
      const port = await freePort();
      router = await startRouter(testConfig({ ...env, MEDIA_PUBLIC_URL: `http://127.0.0.1:${port}` }), {
        port,
        sender: false,
      });
      expect(router.runtime.media).toBeNull();
      const message = imageMessage({ from: nextPhone(), timestamp: ts() });
      expect((await router.postWebhook(inboundEnvelope(message))).status).toBe(200);
      await router.idle();

      const row = (await mediaRow(message.id))!;
      expect(row).toMatchObject({
        tipo: 'image',
        mensaje: '[Imagen]',
        media_id: (message['image'] as { id: string }).id,
        media_type: 'image',
        media_url: null,
        job_estado: null,
      });
      expect(
        await withClient(async (c) => (await c.query('SELECT count(*)::int AS n FROM router_media_jobs')).rows[0]),
      ).toEqual({ n: 0 });
      await expectNoFile(`${router.url}/media/${row.id}/image.jpg`);
      await router.stop();
      router = null;
    },
  );
});

describe('media job creation, and the message link before its file is there', () => {
  const LINK_WAIT_MS = 1_000;
  let router: RunningRouter;
  let dataDir: string;
  beforeAll(async () => {
    await resetDatabase();
    dataDir = mkdtempSync(path.join(tmpdir(), 'psi-media-cost-'));
    const port = await freePort();
    // Media on, but no sweeper, sender or downloader running: every statement counted is the
    // message's own, and a job stays `pendiente` for as long as the test wants.
    router = await startRouter(
      testConfig({
        WHATSAPP_ACCESS_TOKEN: SIM_TOKEN,
        WHATSAPP_API_URL: 'http://127.0.0.1:9',
        MEDIA_URL_SECRET: SECRET,
        DATA_DIR: dataDir,
        MEDIA_PUBLIC_URL: `http://127.0.0.1:${port}/`,
        MEDIA_LINK_WAIT_MS: String(LINK_WAIT_MS),
      }),
      { port, sweeper: false, sender: false, media: false },
    );
    await router.runtime.catalog.get();
  });
  afterAll(async () => {
    await router?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const messageRow = async (wamid: string) =>
    (
      await withClient(
        async (c) =>
          (
            await c.query<{ id: string; media_url: string | null; media_filename: string | null }>(
              'SELECT id, media_url, media_filename FROM mensajes WHERE whatsapp_message_id = $1',
              [wamid],
            )
          ).rows,
      )
    )[0]!;

  it('when a media message is processed, then its link and its download job are written inside the usual statements (still 3 round trips)', async () => {
    expect(router.runtime.media).not.toBeNull();
    const message = imageMessage({ from: nextPhone(), timestamp: ts() });
    await router.idle();
    const before = router.runtime.db.statementCount();
    expect((await router.postWebhook(inboundEnvelope(message))).status).toBe(200);
    await router.idle();
    expect(router.runtime.db.statementCount() - before).toBe(3);
    const image = message['image'] as { id: string; sha256: string };
    expect(
      await withClient(
        async (c) =>
          (await c.query('SELECT media_id, tipo, mime_type, sha256, filename, estado, intentos FROM router_media_jobs'))
            .rows,
      ),
    ).toEqual([
      {
        media_id: image.id,
        tipo: 'image',
        mime_type: 'image/jpeg',
        sha256: image.sha256,
        filename: null,
        estado: 'pendiente',
        intentos: 0,
      },
    ]);
    // MEDIA_PUBLIC_URL's trailing slash is not doubled.
    const row = await messageRow(message.id);
    expect(row).toEqual({
      id: row.id,
      media_url: `${router.url}/media/${row.id}/image.jpg`,
      media_filename: 'image.jpg',
    });
  });

  it('when the link is opened and the file does not arrive within MEDIA_LINK_WAIT_MS, then it waits that long and answers 503 with Retry-After', async () => {
    const message = imageMessage({ from: nextPhone(), timestamp: ts() });
    expect((await router.postWebhook(inboundEnvelope(message))).status).toBe(200);
    await router.idle();
    const row = await messageRow(message.id);

    const looks = watchLinkLooks(router.runtime.db, row.id);
    try {
      const started = Date.now();
      const res = await fetch(row.media_url!, { redirect: 'manual' });
      const waited = Date.now() - started;
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(((await res.json()) as { error: unknown }).error).toEqual({
        code: 'MEDIA_UNAVAILABLE',
        message: 'the file is still being downloaded from WhatsApp',
      });
      expect(waited).toBeGreaterThanOrEqual(LINK_WAIT_MS);
      // It kept looking while it waited.
      expect(looks.looks).toBeGreaterThanOrEqual(3);
    } finally {
      looks.restore();
    }
    expect(
      await withClient(
        async (c) => (await c.query('SELECT estado FROM router_media_jobs j WHERE j.mensaje_id = $1', [row.id])).rows,
      ),
    ).toEqual([{ estado: 'pendiente' }]);
  });
});

describe('media pipeline on the embedded PGlite', () => {
  it('when the router runs without DATABASE_URL, then media is downloaded and its message link serves it the same way', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'psi-media-pglite-'));
    const sim = await startGraphSimulator({ accessToken: SIM_TOKEN });
    const port = await freePort();
    const router = await startRouter(
      testConfig({
        DATABASE_URL: undefined,
        DATA_DIR: dataDir,
        WHATSAPP_ACCESS_TOKEN: SIM_TOKEN,
        WHATSAPP_API_URL: sim.url,
        MEDIA_POLL_MS: '50',
        MEDIA_PUBLIC_URL: `http://127.0.0.1:${port}`,
      }),
      { port, sender: false },
    );
    try {
      expect(router.runtime.db.engine).toBe('pglite');
      const bytes = fileOf('%PDF-1.7', 5_000);
      const added = sim.addMedia({ bytes, mimeType: 'application/pdf', filename: 'Informe final año.pdf' });
      const message = documentMessage({
        from: nextPhone(),
        timestamp: ts(),
        mediaId: added.id,
        sha256: added.sha256,
        filename: 'Informe final año.pdf',
      });
      expect((await router.postWebhook(inboundEnvelope(message))).status).toBe(200);
      await router.idle();
      await router.runtime.media!.whenIdle();

      const res = await router.runtime.db.query<{
        id: string;
        media_url: string;
        media_type: string;
        media_sha256: string;
        media_error: string | null;
        estado: string;
        url: string;
      }>(
        `SELECT m.id, m.media_url, m.media_type, m.media_sha256, m.media_error, j.estado, j.url FROM mensajes m JOIN router_media_jobs j ON j.mensaje_id = m.id`,
      );
      const id = res.rows[0]?.id ?? '';
      expect(res.rows).toEqual([
        {
          id,
          media_url: `${router.url}/media/${id}/Informe%20final%20a%C3%B1o.pdf`,
          media_type: 'document',
          media_sha256: sha256Hex(bytes),
          media_error: null,
          estado: 'hecho',
          url: expect.stringMatching(
            new RegExp(`^${router.url}/media/\\d{4}/\\d{2}/${id}/Informe-final-ano\\.pdf\\?exp=\\d+&sig=`),
          ),
        },
      ]);
      expect(crmName(res.rows[0]!.media_url)).toBe('Informe final año.pdf');
      const served = await fetchLink(res.rows[0]!.media_url);
      expect(served).toMatchObject({ status: 200, type: 'application/pdf' });
      expect(served.bytes.equals(bytes)).toBe(true);
    } finally {
      await router.stop();
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
