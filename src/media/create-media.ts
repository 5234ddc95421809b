/**
 * Wires the media pipeline from the config: which store, whether jobs are created at all, and what
 * the /media route needs. Media is off — no jobs, no downloads — with MEDIA_STORAGE=off or without
 * WHATSAPP_ACCESS_TOKEN (the Graph API will not hand out media without it); messages are stored
 * with their media id either way.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import { GraphMediaClient } from './graph-media-client.js';
import { EvolutionAwareMediaClient } from './evolution-media-client.js';
import { LocalDiskStore, mediaRoot } from './local-disk-store.js';
import { limitsFromConfig } from './media-checks.js';
import { MediaDownloader } from './media-downloader.js';
import { mediaUrlPolicy } from './media-url-policy.js';
import { spoolDirOf } from './media-spool.js';
import type { MediaStore } from './media-store.js';
import { resolveMediaUrlSecret } from './media-url-secret.js';

export interface LocalMediaAccess {
  /** Absolute directory of the files (DATA_DIR/media). */
  root: string;
  secret: string;
}

export interface MediaWiring {
  /** Null when media is off: the processor then creates no jobs. */
  downloader: MediaDownloader | null;
  /** Set with MEDIA_STORAGE=local: the signed /media route serves files from here. */
  local: LocalMediaAccess | null;
  /** One line for the startup banner. */
  describe: string;
}

export async function createMedia(config: Config, db: Db, log: Logger): Promise<MediaWiring> {
  if (config.MEDIA_STORAGE === 'off') return { downloader: null, local: null, describe: 'off (MEDIA_STORAGE=off)' };
  let store: MediaStore;
  let local: LocalMediaAccess | null = null;
  if (config.MEDIA_STORAGE === 'local') {
    local = { root: mediaRoot(config.DATA_DIR), secret: await resolveMediaUrlSecret(config, log) };
    store = new LocalDiskStore({ ...local, ttlS: config.MEDIA_URL_TTL_S, publicUrl: config.MEDIA_PUBLIC_URL });
  } else {
    // Loaded only when chosen: supabase-js is a large module tree the other stores never need.
    const { SupabaseStore } = await import('./supabase-store.js');
    store = new SupabaseStore({
      // config.ts requires all three with MEDIA_STORAGE=supabase.
      url: config.SUPABASE_URL ?? '',
      serviceRoleKey: config.SUPABASE_SERVICE_ROLE_KEY ?? '',
      bucket: config.SUPABASE_STORAGE_BUCKET ?? '',
      publicBucket: config.SUPABASE_STORAGE_PUBLIC,
      signedUrlTtlS: config.MEDIA_URL_TTL_S,
      timeoutMs: config.MEDIA_TIMEOUT_MS,
    });
  }
  // Evolution lines hand their files over themselves (base64 or a link): media works for them
  // with EVOLUTION_API_URL alone.
  if (!config.WHATSAPP_ACCESS_TOKEN && !config.EVOLUTION_API_URL) {
    return { downloader: null, local, describe: 'off (no WHATSAPP_ACCESS_TOKEN to fetch media with)' };
  }
  const graph = config.WHATSAPP_ACCESS_TOKEN
    ? new GraphMediaClient({
        baseUrl: config.WHATSAPP_API_URL,
        version: config.WHATSAPP_API_VERSION,
        accessToken: config.WHATSAPP_ACCESS_TOKEN,
        timeoutMs: config.MEDIA_TIMEOUT_MS,
        urlPolicy: mediaUrlPolicy(config),
      })
    : null;
  const downloader = new MediaDownloader(
    db,
    new EvolutionAwareMediaClient(graph, db, config.MEDIA_TIMEOUT_MS),
    store,
    {
      concurrency: config.MEDIA_CONCURRENCY,
      spoolDir: spoolDirOf(config.DATA_DIR),
      pollMs: config.MEDIA_POLL_MS,
      maxAttempts: config.MEDIA_MAX_ATTEMPTS,
      timeoutMs: config.MEDIA_TIMEOUT_MS,
      limits: limitsFromConfig(config),
    },
    log,
  );
  const where =
    store.kind === 'local'
      ? `local disk at ${local?.root}`
      : `Supabase Storage bucket ${config.SUPABASE_STORAGE_BUCKET}`;
  return { downloader, local, describe: where };
}
