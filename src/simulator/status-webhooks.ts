/**
 * Posts signed status webhooks like Meta: after each accepted send, one POST per configured status
 * (sent → delivered → read), each only after the previous one got its answer. Chains run in the
 * background; every outcome is caught and counted, so nothing here can throw unhandled.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { signBody } from '../webhook/verify-signature.js';
import { SAMPLE_DISPLAY_PHONE_NUMBER, SAMPLE_WABA_ID } from './ids.js';
import { RecordedLog } from './recorded-log.js';
import { statusEnvelope, type EnvelopeIds, type StatusItemInput } from './status-envelope.js';
import type { AutoStatus, SentMessage, StatusDelivery, StatusWebhookOptions } from './types.js';

const DEFAULT_STATUSES: readonly AutoStatus[] = ['sent', 'delivered', 'read'];
const DEFAULT_TIMEOUT_MS = 10_000;

export class StatusWebhookSender {
  readonly failures: RecordedLog<StatusDelivery>;
  private ok = 0;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly statuses: readonly AutoStatus[];
  private readonly delayMs: number;
  private readonly timeoutMs: number;
  private readonly ids: EnvelopeIds;

  constructor(
    private readonly options: StatusWebhookOptions,
    private readonly signal: AbortSignal,
    maxRecorded?: number,
  ) {
    this.failures = new RecordedLog(maxRecorded);
    this.statuses = options.statuses ?? DEFAULT_STATUSES;
    this.delayMs = options.delayMs ?? 0;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.ids = {
      wabaId: options.wabaId ?? SAMPLE_WABA_ID,
      displayPhoneNumber: options.displayPhoneNumber ?? SAMPLE_DISPLAY_PHONE_NUMBER,
    };
  }

  /** Starts the status chain of an accepted send; returns at once. */
  afterSend(sent: SentMessage, recipientId: string): void {
    if (this.statuses.length === 0 || this.signal.aborted) return;
    this.track(this.chain(sent, recipientId));
  }

  /** Posts one status now (tracked, so idle() and close() cover it). Never rejects. */
  post(item: StatusItemInput): Promise<StatusDelivery> {
    const p = this.deliver(item);
    this.track(p);
    return p;
  }

  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  counts(): { ok: number; failed: number; inFlight: number } {
    return { ok: this.ok, failed: this.failures.count, inFlight: this.inFlight.size };
  }

  resetCounts(): void {
    this.ok = 0;
    this.failures.clear();
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch(() => undefined).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private async chain(sent: SentMessage, recipientId: string): Promise<void> {
    const category = sent.type === 'template' ? 'utility' : 'service';
    for (const status of this.statuses) {
      if (this.delayMs > 0) {
        try {
          await sleep(this.delayMs, undefined, { signal: this.signal });
        } catch {
          return; // closed while waiting
        }
      }
      if (this.signal.aborted) return;
      await this.deliver({ wamid: sent.wamid, status, recipientId, phoneNumberId: sent.phoneNumberId, category });
    }
  }

  /** Posts any signed envelope now (an inbound message: inbound-envelope.ts); tracked like a status. */
  postEnvelope(envelope: unknown): Promise<{ ok: boolean; httpStatus: number | null; error: string | null }> {
    const p = this.send(JSON.stringify(envelope)).then((r) => ({ ok: r.error === null, ...r }));
    this.track(p);
    return p;
  }

  /** The ids the envelopes carry (WABA and display number). */
  get envelopeIds(): EnvelopeIds {
    return this.ids;
  }

  private async deliver(item: StatusItemInput): Promise<StatusDelivery> {
    const { httpStatus, error } = await this.send(JSON.stringify(statusEnvelope(this.ids, item)));
    const delivery: StatusDelivery = {
      wamid: item.wamid,
      status: item.status,
      ok: error === null,
      httpStatus,
      error,
      at: Date.now(),
    };
    if (delivery.ok) this.ok += 1;
    else this.failures.push(delivery);
    return delivery;
  }

  private async send(raw: string): Promise<{ httpStatus: number | null; error: string | null }> {
    let httpStatus: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'facebookexternalua',
          'x-hub-signature-256': signBody(raw, this.options.appSecret),
        },
        body: raw,
        signal: AbortSignal.any([this.signal, AbortSignal.timeout(this.timeoutMs)]),
      });
      httpStatus = res.status;
      // Drain the answer so the connection goes back to the pool.
      await res.arrayBuffer();
      if (!res.ok) error = `receiver answered HTTP ${res.status}`;
    } catch (err) {
      error = describeFetchError(err);
    }
    return { httpStatus, error };
  }
}

function describeFetchError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return `${e.name ?? 'Error'}: ${e.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}
