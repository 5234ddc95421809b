import { createHmac } from 'node:crypto';

export interface InboxClientOptions {
  secret: string | undefined;
  timeoutMs: number;
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

export const INBOX_SIGNATURE_HEADER = 'x-psi-router-signature';

/**
 * Posts a notification to an area's inbox webhook (n8n). The body is signed like Meta signs ours:
 * `X-Psi-Router-Signature: sha256=HMAC(INBOX_WEBHOOK_SECRET, body)`, so the receiver can verify it.
 * 2xx = delivered; 408/429/5xx/network/timeout = retry; other 4xx = the receiver refuses it.
 */
export class InboxClient {
  constructor(private readonly options: InboxClientOptions) {}

  async deliver(url: string, payload: unknown, event: string, deliveryId: string): Promise<void> {
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-psi-router-event': event,
      'x-psi-router-delivery': deliveryId,
    };
    if (this.options.secret) headers[INBOX_SIGNATURE_HEADER] = `sha256=${createHmac('sha256', this.options.secret).update(body).digest('hex')}`;
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.options.timeoutMs) });
    } catch (err) {
      throw new InboxDeliveryError(null, true, (err as Error)?.name === 'TimeoutError' ? 'timeout' : `network: ${(err as Error)?.message}`);
    } 
    // Drain the body so the connection can be reused.
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return;
    const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
    throw new InboxDeliveryError(res.status, retryable, `inbox webhook answered ${res.status}`);
  }
}
