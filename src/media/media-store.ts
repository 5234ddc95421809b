/**
 * Where inbound media ends up. One interface, two backends: the local disk under DATA_DIR (the
 * embedded default, served by the router's signed /media route) and Supabase Storage (production).
 */
export interface StoredMedia {
  /** What the CRM opens: a signed (expiring) or public URL. Never logged: it may carry a token. */
  url: string;
  /** The object key inside the backend, kept on the job row so a URL can be signed again later. */
  key: string;
}

/** A complete, checked download waiting on disk (media-spool.ts); the caller removes it afterwards. */
export interface SpooledFile {
  path: string;
  size: number;
}

export interface MediaStore {
  readonly kind: 'local' | 'supabase';
  /**
   * Stores the file under `key` (see media-keys.ts: keys embed the message id, so two different
   * files never share one), streaming it: a file is never held whole in memory. Storing the same
   * key again after a crash is not an error.
   */
  put(key: string, file: SpooledFile, contentType: string): Promise<StoredMedia>;
}
