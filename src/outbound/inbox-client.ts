import { postJson, type PostResult } from './http-pool.js';
import { INBOX_SIGNATURE_HEADER, signInboxBody } from './inbox-signature.js';

export interface InboxClientOptions {
  secret: string | undefined;
  timeoutMs: number;
  /** Production: never post unsigned (an area can get its URL from the CRM after the start check). */
  requireSecret?: boolean;
  /** Most bytes of an answer read before the connection is dropped (default 64 KiB). */
  maxResponseBytes?: number;
  /** Clock for the signature's timestamp (tests). */
  now?: () => number;
}

export class InboxDeliveryError extends Error {
  constructor(
    readonly httpStatus: number | null,
    readonly retryable: boolean,
    message: string,
  ) {
    super(message);
    this.name = 'InboxDeliveryError';
  }
}

const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Posts a notification to an area's inbox webhook (n8n), signed with a timestamp
 * (inbox-signature.ts) so the receiver can check origin and freshness.
 * 2xx = delivered; 408/429/5xx/network/timeout = retry; other 4xx = the receiver refuses it.
 * A redirect is not followed (it would re-post customer data wherever the answer points) and
 * counts as a refusal; so does a URL that is not http(s). Only the first bytes of an answer are
 * read: its content is never used, and a huge one must not fill the process's memory.
 */
export class InboxClient {
  constructor(private readonly options: InboxClientOptions) {}

  async deliver(url: string, payload: unknown, event: string, deliveryId: string): Promise<void> {
    const target = checkedUrl(url);
    if (!this.options.secret && this.options.requireSecret) {
      throw new InboxDeliveryError(
        null,
        false,
        'inbox_secret_missing: INBOX_WEBHOOK_SECRET is not set; production posts no unsigned notifications',
      );
    }
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-psi-router-event': event,
      'x-psi-router-delivery': deliveryId,
    };
    if (this.options.secret)
      headers[INBOX_SIGNATURE_HEADER] = signInboxBody(
        this.options.secret,
        body,
        (this.options.now ?? Date.now)() / 1000,
      );
    let res: PostResult;
    try {
      // node:http follows no redirect: a 3xx comes back as such and is refused below.
      res = await postJson(target.toString(), headers, body, {
        timeoutMs: this.options.timeoutMs,
        maxResponseBytes: this.options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      });
    } catch (err) {
      throw new InboxDeliveryError(
        null,
        true,
        (err as Error)?.name === 'TimeoutError' ? 'timeout' : `network: ${(err as Error)?.message}`,
      );
    }
    if (res.status >= 200 && res.status < 300) return;
    if (res.status >= 300 && res.status < 400) {
      throw new InboxDeliveryError(
        res.status,
        false,
        `inbox webhook answered ${res.status} (a redirect; not followed: point the area at the final URL)`,
      );
    }
    const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
    throw new InboxDeliveryError(res.status, retryable, `inbox webhook answered ${res.status}`);
  }
}

/** The area's inbox_webhook_url as a URL, or a refusal naming what is wrong (never the URL: it may hold a token). */
function checkedUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InboxDeliveryError(null, false, 'inbox_url_invalid: the area inbox_webhook_url is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InboxDeliveryError(
      null,
      false,
      `inbox_url_invalid: the area inbox_webhook_url must be http(s), not ${url.protocol}`,
    );
  }
  return url;
}
