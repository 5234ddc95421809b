/**
 * Public vocabulary of the Graph API simulator: what a test scripts, what it reads back. Kept apart
 * from the server so other files (media routes, the benchmark) can import types without the server.
 */
import type { SimInbound, SimInboundOptions } from './inbound-envelope.js';
import type { RouteRegistrar, RouteTable } from './route-table.js';

/** Message `type` values the Cloud API accepts on POST /{phone-number-id}/messages. */
export const MESSAGE_TYPES = [
  'text',
  'interactive',
  'template',
  'image',
  'audio',
  'video',
  'document',
  'sticker',
  'location',
  'contacts',
  'reaction',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Statuses the simulator posts by itself after a successful send, in this order. */
export type AutoStatus = 'sent' | 'delivered' | 'read';
/** Statuses `postStatus` can post on demand. */
export type StatusName = AutoStatus | 'failed' | 'played';

export interface StatusWebhookOptions {
  /** Where Meta would post webhooks (the router's /webhook). */
  url: string;
  /** Signs each body into X-Hub-Signature-256, as Meta does with the app secret. */
  appSecret: string;
  /** Default all three, in this order. */
  statuses?: AutoStatus[];
  /** Pause before each status of a message. Default 0. */
  delayMs?: number;
  /** `entry[].id`. Default Meta's documentation sample WABA id. */
  wabaId?: string;
  /** `metadata.display_phone_number`. Default Meta's documentation sample. */
  displayPhoneNumber?: string;
  /** Per-post timeout so a stuck receiver cannot pile up requests. Default 10 s. */
  timeoutMs?: number;
}

export interface GraphSimulatorOptions {
  /** 0 (default) = a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The only token accepted in `Authorization: Bearer …`. */
  accessToken: string;
  /** e.g. 'v25.0'; unset = any vN.N is accepted. */
  version?: string;
  statusWebhook?: StatusWebhookOptions;
  /** Artificial latency added to every send request after auth. Default 0. */
  latencyMs?: number;
  /**
   * How many sent messages / rejections / webhook failures are kept for introspection (at least the
   * last N; counters stay exact). Default unlimited; long benchmarks set it to bound memory.
   */
  maxRecorded?: number;
  /** Extra routes, registered before the built-in media and send routes. */
  routes?: readonly RouteRegistrar[];
  /** How long a media download link from a lookup works. Default 5 minutes, as Meta's. */
  mediaUrlTtlMs?: number;
}

/** Media a customer "sent": add it, then put its id (and sha256) in a webhook. */
export interface AddMediaInput {
  /** Default: a fresh Meta-like numeric id. */
  id?: string;
  bytes: Buffer | Uint8Array | string;
  mimeType: string;
  filename?: string;
}

export interface AddedMedia {
  id: string;
  /** Base64, as Meta writes it in webhooks (`image.sha256`). */
  sha256: string;
  /** Hex, as the media lookup answers it. */
  sha256Hex: string;
  size: number;
}

export interface MediaCounters {
  /** Authorised lookups (`GET /{version}/{media-id}`), known ids or not. */
  lookups: number;
  /** Authorised download requests, expired links included. */
  downloads: number;
  /** Downloads that were answered with the bytes. */
  served: number;
}

/** A send the simulator accepted. */
export interface SentMessage {
  wamid: string;
  phoneNumberId: string;
  to: string;
  type: MessageType;
  /** The parsed JSON request body. */
  body: Record<string, unknown>;
  /** Date.now() when accepted. */
  at: number;
}

/** Failures a test queues; each is consumed by exactly one send request (after auth, before validation). */
export type ScriptedFailure =
  | { kind: 'meta_error'; httpStatus: number; code: number; title?: string; message?: string; subcode?: number }
  | { kind: 'http'; status: 500 | 502 | 503; body?: string }
  /** Read the request and never answer; the client must give up (the socket dies on close()). */
  | { kind: 'timeout' }
  /** Read the request, then reset the TCP connection. */
  | { kind: 'reset' };

/** How a "down" simulator answers sends. */
export type DownMode = '503' | 'reset';

export interface RequestCounters {
  ok: number;
  auth_error: number;
  invalid: number;
  scripted_error: number;
  down: number;
}

/** An error answer of the send endpoint (`code` is null for scripted raw HTTP errors). */
export interface Rejection {
  status: number;
  code: number | null;
  details: string;
}

/** The outcome of posting one status webhook. */
export interface StatusDelivery {
  wamid: string;
  status: StatusName;
  ok: boolean;
  /** Receiver's HTTP status; null when no answer (refused, timed out, aborted). */
  httpStatus: number | null;
  error: string | null;
  at: number;
}

/** An error inside a `failed` status, in the simulator's short form (defaults from Meta's table). */
export interface StatusErrorInput {
  code: number;
  title?: string;
  message?: string;
  details?: string;
}

export interface PostStatusOptions {
  /** Recipient; default the `to` of the recorded send with this wamid. */
  to?: string;
  /** Default that of the recorded send, else Meta's documentation sample. */
  phoneNumberId?: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** `errors` of a failed status. */
  errors?: StatusErrorInput[];
  /** Include `conversation` + `pricing`; default true for sent/delivered. */
  billing?: boolean;
}

export interface SimulatorStats {
  requests: RequestCounters;
  /** Sends accepted since the last reset (exact even when `sent` is trimmed). */
  sent: number;
  rejected: number;
  scriptPending: number;
  down: DownMode | null;
  webhooks: { ok: number; failed: number; inFlight: number };
  media: MediaCounters & { stored: number };
}

export interface GraphSimulator {
  /** Origin, e.g. http://127.0.0.1:41234 (use as WHATSAPP_API_URL). */
  readonly url: string;
  readonly port: number;
  /** `${url}/${version}/${phoneNumberId}/messages`; version defaults to the configured one or the router's default (DEFAULT_GRAPH_API_VERSION). */
  messagesUrl(phoneNumberId: string, version?: string): string;
  /** Live view of accepted sends, oldest first. */
  readonly sent: readonly SentMessage[];
  readonly requests: Readonly<RequestCounters>;
  readonly rejected: readonly Rejection[];
  readonly webhookFailures: readonly StatusDelivery[];
  /** The path table; other files may add routes at any time. */
  readonly routes: RouteTable;
  script(...failures: ScriptedFailure[]): void;
  setDown(down: boolean, how?: DownMode): void;
  /** Posts one signed status webhook now. Rejects only when no statusWebhook is configured or the recipient is unknown. */
  postStatus(wamid: string, status: StatusName, opts?: PostStatusOptions): Promise<StatusDelivery>;
  /** Posts one signed inbound message (ad click, text, tap) to the statusWebhook URL. Rejects without it. */
  postInbound(
    input: SimInbound,
    opts?: Partial<SimInboundOptions>,
  ): Promise<{ wamid: string; ok: boolean; httpStatus: number | null; error: string | null }>;
  /** Resolves as soon as `n` sends are recorded since the last reset; rejects after `timeoutMs`. */
  waitForSent(n: number, timeoutMs?: number): Promise<SentMessage[]>;
  /** Resolves when every status webhook chain started so far has finished. */
  statusWebhooksIdle(): Promise<void>;
  stats(): SimulatorStats;
  /** Adds media the router can look up and download; returns its id and checksums. */
  addMedia(input: AddMediaInput): AddedMedia;
  /** Forgets a media id: lookups and links answer 404 from now on. */
  deleteMedia(id: string): boolean;
  /** Every download link handed out so far expires now; returns how many. */
  expireMediaUrls(): number;
  /** The next `count` (default 1) links a lookup hands out are expired by the time they are used. */
  expireNextMediaUrls(count?: number): void;
  readonly mediaCounters: Readonly<MediaCounters>;
  /** Clears sends, counters, rejections, script, down switch, webhook failures and media. */
  reset(): void;
  /** Stops listening, destroys every socket (including hanging "timeout" ones), aborts webhook posts. */
  close(): Promise<void>;
}
