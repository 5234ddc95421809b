/**
 * The secret that signs local media links. Production must set MEDIA_URL_SECRET (config.ts refuses
 * to start without it). Elsewhere one is generated once into DATA_DIR and reused, so links already
 * stored on messages keep working across restarts, and a warning says so.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';

const GENERATED_SECRET_FILE = 'media-url-secret';

export async function resolveMediaUrlSecret(config: Config, log: Logger): Promise<string> {
  if (config.MEDIA_URL_SECRET) return config.MEDIA_URL_SECRET;
  const file = path.resolve(config.DATA_DIR, GENERATED_SECRET_FILE);
  await mkdir(path.dirname(file), { recursive: true });
  // Written whole to a temporary file, then hard-linked into place: link() fails when the file
  // exists, so several processes starting together all end up with the first complete secret.
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temp, randomBytes(32).toString('base64url'), { mode: 0o600 });
  try {
    await link(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  const secret = (await readFile(file, 'utf8')).trim();
  log.warn(
    { file },
    'MEDIA_URL_SECRET is not set: signing media links with a secret generated under DATA_DIR (set it in production)',
  );
  return secret;
}
