/**
 * Error bodies exactly as the Graph API returns them, so the client under test parses the real
 * shape: `{ error: { message: '(#code) title', type: 'OAuthException', code, error_data, error_subcode?, fbtrace_id } }`.
 */
import { randomBytes } from 'node:crypto';
import type { ScriptedFailure } from './types.js';

export interface MetaErrorBody {
  error: {
    message: string;
    type: 'OAuthException' | 'GraphMethodException';
    code: number;
    error_data?: { messaging_product: 'whatsapp'; details: string };
    error_subcode?: number;
    fbtrace_id: string;
  };
}

interface KnownError {
  httpStatus: number;
  title: string;
  details: string;
}

/** Titles, HTTP statuses and details as Meta documents them (Cloud API error codes). */
export const KNOWN_META_ERRORS: Readonly<Record<number, KnownError>> = {
  100: { httpStatus: 400, title: 'Invalid parameter', details: 'Invalid parameter' },
  130429: { httpStatus: 429, title: 'Rate limit hit', details: 'Cloud API message throughput has been reached.' },
  131000: {
    httpStatus: 500,
    title: 'Something went wrong',
    details: 'Message failed to send due to an unknown error.',
  },
  131009: { httpStatus: 400, title: 'Parameter value is not valid', details: 'Parameter value is not valid' },
  131016: { httpStatus: 503, title: 'Service unavailable', details: 'A service is temporarily unavailable.' },
  131026: { httpStatus: 400, title: 'Message undeliverable', details: 'Message Undeliverable.' },
  131047: {
    httpStatus: 400,
    title: 'Re-engagement message',
    details:
      'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
  },
  131056: {
    httpStatus: 400,
    title: '(Business Account, Consumer Account) pair rate limit hit',
    details:
      'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.',
  },
};

/** Meta's trace ids look like `AbC1dEf…` (23 url-safe characters). Only error paths pay for it. */
export function fbtraceId(): string {
  return randomBytes(18).toString('base64url').slice(0, 23);
}

export function metaErrorBody(o: { code: number; title?: string; details?: string; subcode?: number }): MetaErrorBody {
  const known = KNOWN_META_ERRORS[o.code];
  const title = o.title ?? known?.title ?? 'Unknown error';
  return {
    error: {
      message: `(#${o.code}) ${title}`,
      type: 'OAuthException',
      code: o.code,
      error_data: { messaging_product: 'whatsapp', details: o.details ?? known?.details ?? title },
      ...(o.subcode !== undefined ? { error_subcode: o.subcode } : {}),
      fbtrace_id: fbtraceId(),
    },
  };
}

/** Graph's answer to a missing or wrong token (no `error_data`: it is not a WhatsApp error). */
export function invalidTokenBody(): MetaErrorBody {
  return {
    error: {
      message: 'Invalid OAuth access token - Cannot parse access token',
      type: 'OAuthException',
      code: 190,
      fbtrace_id: fbtraceId(),
    },
  };
}

export function unknownPathBody(path: string): MetaErrorBody {
  return {
    error: { message: `Unknown path components: ${path}`, type: 'OAuthException', code: 100, fbtrace_id: fbtraceId() },
  };
}

/** Graph's answer for an id it does not know (or no longer has): a deleted or expired media id. */
export function unknownObjectBody(id: string): MetaErrorBody {
  return {
    error: {
      message: `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
      type: 'GraphMethodException',
      code: 100,
      error_subcode: 33,
      fbtrace_id: fbtraceId(),
    },
  };
}

/** A scripted Meta error for `code`, with Meta's HTTP status, title and details unless overridden. */
export function metaFailure(
  code: number,
  o: { httpStatus?: number; title?: string; message?: string; subcode?: number } = {},
): Extract<ScriptedFailure, { kind: 'meta_error' }> {
  const known = KNOWN_META_ERRORS[code];
  return {
    kind: 'meta_error',
    httpStatus: o.httpStatus ?? known?.httpStatus ?? 400,
    code,
    title: o.title ?? known?.title ?? 'Unknown error',
    message: o.message ?? known?.details ?? 'Unknown error',
    ...(o.subcode !== undefined ? { subcode: o.subcode } : {}),
  };
}

/** The failures tests script most, named after what Meta means by them. */
export const metaFailures = {
  /** 130429, HTTP 429: the phone number's throughput was exceeded. */
  rateLimitHit: () => metaFailure(130429),
  /** 131056, HTTP 400: too many messages to the same customer in a short time. */
  pairRateLimitHit: () => metaFailure(131056),
  /** 131047, HTTP 400: outside the 24-hour customer service window. */
  reEngagement: () => metaFailure(131047),
  /** 131026, HTTP 400: the recipient cannot receive the message. */
  undeliverable: () => metaFailure(131026),
  /** 131000, HTTP 500: Meta's generic failure. */
  somethingWentWrong: () => metaFailure(131000),
  /** 131016, HTTP 503: a Meta service is temporarily down. */
  serviceUnavailable: () => metaFailure(131016),
} as const;
