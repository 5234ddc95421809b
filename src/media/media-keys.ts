/**
 * Object keys for stored media: `<yyyy>/<mm>/<mensaje id>/<file name>`. The message id makes every
 * key unique — two customers' `factura.pdf` stay two files — and the month keeps folders small.
 * Keys use only [A-Za-z0-9._-] per segment: safe as a path on disk, in a Storage URL (supabase-js
 * does not encode object paths) and in a signed /media URL, and never `..`.
 */

const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
  'audio/amr': 'amr',
  'video/mp4': 'mp4',
  'video/3gpp': '3gp',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.ms-powerpoint': 'ppt',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
};

const MAX_NAME_LENGTH = 80;
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `audio/ogg; codecs=opus` → `audio/ogg`. */
export function baseMimeType(mimeType: string | null | undefined): string | null {
  const base = mimeType?.split(';')[0]?.trim().toLowerCase();
  return base ? base : null;
}

export function extensionFor(mimeType: string | null | undefined): string {
  return EXTENSIONS[baseMimeType(mimeType) ?? ''] ?? 'bin';
}

/**
 * A customer's file name made safe for a key: accents dropped (`inscripción` → `inscripcion`),
 * anything else outside [A-Za-z0-9._-] collapsed to `-`, no leading dots, at most 80 characters
 * with the extension kept. Null when nothing usable is left.
 */
export function sanitizeFilename(filename: string | null | undefined): string | null {
  if (!filename) return null;
  const base = filename.split(/[\\/]/).pop() ?? '';
  let clean = base
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.-]+|[.-]+$/g, '');
  if (clean.length > MAX_NAME_LENGTH) {
    const dot = clean.lastIndexOf('.');
    const ext = dot > 0 && clean.length - dot <= 10 ? clean.slice(dot) : '';
    clean = clean.slice(0, MAX_NAME_LENGTH - ext.length).replace(/[.-]+$/, '') + ext;
  }
  return SEGMENT.test(clean) ? clean : null;
}

export interface MediaKeyInput {
  /** `mensajes.id` (uuid). */
  messageId: string;
  /** image | audio | video | document | sticker */
  type: string;
  filename: string | null;
  mimeType: string | null;
  /** When the job was created: fixes the month folder, so a retried job writes the same key. */
  createdAt: Date;
}

export function buildMediaKey(input: MediaKeyInput): string {
  const year = String(input.createdAt.getUTCFullYear());
  const month = String(input.createdAt.getUTCMonth() + 1).padStart(2, '0');
  const id = input.messageId.toLowerCase().replace(/[^a-f0-9-]/g, '');
  const ext = extensionFor(input.mimeType);
  let name = sanitizeFilename(input.filename);
  if (name === null) name = `${sanitizeFilename(input.type) ?? 'media'}.${ext}`;
  else if (!name.includes('.')) name = `${name}.${ext}`;
  return `${year}/${month}/${id}/${name}`;
}

/** True for keys buildMediaKey can produce: relative, [A-Za-z0-9._-] segments, no `.`/`..`. */
export function isSafeMediaKey(key: string): boolean {
  if (key.length === 0 || key.length > 300) return false;
  const segments = key.split('/');
  return segments.length <= 8 && segments.every((s) => SEGMENT.test(s));
}
