/**
 * Media in Supabase Storage through @supabase/supabase-js — the production backend, next to the
 * database the CRM already reads. Uploads never overwrite (`upsert: false`); the CRM gets a signed
 * URL (MEDIA_URL_TTL_S) or, for a public bucket, the public URL.
 */
import { createReadStream } from 'node:fs';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { AppError } from '../errors.js';
import type { MediaStore, SpooledFile, StoredMedia } from './media-store.js';
import { streamingFetch } from './streaming-fetch.js';

export interface SupabaseStoreOptions {
  url: string;
  serviceRoleKey: string;
  bucket: string;
  /** Public bucket: store the public URL instead of a signed one. */
  publicBucket: boolean;
  signedUrlTtlS: number;
  timeoutMs: number;
}

/**
 * supabase-js builds a Realtime client in its constructor, and on Node < 22 (no global WebSocket)
 * that throws unless a transport is given. The router never subscribes to anything, so the
 * transport it gets refuses to be used rather than pulling in a WebSocket package.
 */
class NoRealtimeTransport {
  constructor() {
    throw new Error('psi-router does not use Supabase Realtime');
  }
}

export class SupabaseStore implements MediaStore {
  readonly kind = 'supabase' as const;
  private readonly client: SupabaseClient;

  constructor(private readonly options: SupabaseStoreOptions) {
    const timeoutMs = options.timeoutMs;
    this.client = createClient(options.url, options.serviceRoleKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      realtime: { transport: NoRealtimeTransport as never },
      // Every Storage call gets an explicit timeout, like every other outbound call of the router,
      // and uploads stream from the spool file with backpressure (see streaming-fetch.ts).
      global: { fetch: streamingFetch(timeoutMs) },
    });
  }

  async put(key: string, file: SpooledFile, contentType: string): Promise<StoredMedia> {
    const bucket = this.client.storage.from(this.options.bucket);
    // Streamed from the spool file with its length announced: a 100 MB document is never in memory.
    const uploaded = await bucket.upload(key, createReadStream(file.path), {
      contentType,
      upsert: false,
      cacheControl: '31536000',
      duplex: 'half',
      headers: { 'content-length': String(file.size) },
    });
    // A duplicate can only be this job's own earlier upload (keys embed the message id) whose
    // database update was lost to a crash: the object is there, so go on to its URL.
    if (uploaded.error && !isDuplicate(uploaded.error)) throw storeError('upload', uploaded.error);
    if (this.options.publicBucket) return { key, url: bucket.getPublicUrl(key).data.publicUrl };
    const signed = await bucket.createSignedUrl(key, this.options.signedUrlTtlS);
    if (signed.error) throw storeError('sign', signed.error);
    return { key, url: signed.data.signedUrl };
  }
}

interface StorageErrorLike {
  message: string;
  status?: number | undefined;
  statusCode?: string | undefined;
}

/** Storage answers a duplicate with 409 (older versions: HTTP 400 carrying statusCode "409"). */
function isDuplicate(err: StorageErrorLike): boolean {
  return err.status === 409 || err.statusCode === '409' || /duplicate|already exists/i.test(err.message);
}

function storeError(step: string, err: StorageErrorLike): AppError {
  return new AppError(
    'MEDIA_STORE_FAILED',
    `supabase storage ${step}: ${err.status ?? 'network'} ${err.message}`.slice(0, 300),
    {
      cause: err,
      details: { step, status: err.status ?? null },
    },
  );
}
