import type { Logger } from 'pino';
import { backoffMs } from '../shared/backoff.js';
import { ClaimLoop } from '../shared/claim-loop.js';
import { workerId } from '../shared/worker-id.js';
import type { Db } from '../store/db.js';
import { claimOutbox, recordFailure, type OutboxItem } from '../store/outbox-repository.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { GraphClient } from './graph-client.js';
import { GraphApiError, backoffFor } from './graph-errors.js';
import { InboxDeliveryError, type InboxClient } from './inbox-client.js';
import { RateLimiter } from './rate-limiter.js';
import { RecordBatcher } from './record-batcher.js';
import { isEvolutionSender } from '../evolution/line-ids.js';
import type { EvolutionTransport } from './evolution-transport.js';

export interface OutboxSenderOptions {
  concurrency: number;
  pollMs: number;
  /** Attempts for an inbox notification before it is given up (`fallido`). */
  maxAttempts: number;
  ratePerSecond: number;
  circuitThreshold: number;
  circuitOpenMs: number;
  /** How long a claimed row stays ours before another sender may take it over. */
  claimLeaseMs?: number;
}

export interface SendResult {
  outcome: 'sent' | 'dry_run' | 'retry' | 'failed' | 'sandbox';
  code: number | null;
}

/**
 * Drains `router_outbox`: WhatsApp replies through the Graph client (rate-limited per sending
 * number, guarded by a circuit breaker) and inbox notifications through the inbox client. Rows are
 * claimed with a lease, so several processes can drain together and a crashed one's rows are taken
 * over; a duplicate send can only happen if a process dies between Meta's answer and recordSent.
 * Sends of one pass that complete close together are recorded together, in one statement (RecordBatcher).
 * Without a Graph client (no access token) it runs dry: logs what it would send and marks the row
 * `omitido`, leaving the message `pendiente`.
 */
/** After a failed pass, how long expired claims of other senders are left to their owners. */
const TAKEOVER_GRACE_MS = 10_000;
/** Inbox notifications: 1 s, 2 s, 4 s … capped at a minute. */
const INBOX_BACKOFF = { baseMs: 1_000, capMs: 60_000 };

export class OutboxSender {
  readonly owner = workerId('out');
  readonly circuit: CircuitBreaker;
  private readonly limiter: RateLimiter;
  private readonly log: Logger;
  private readonly loop: ClaimLoop;
  private inFlight = 0;
  private readonly unrecorded = new Map<string, string>();
  private readonly records: RecordBatcher;
  /**
   * When a pass last failed (the database away). Expired claims are not taken over for a grace
   * period after that: every sender saw the same outage, and one that holds accepted-but-unrecorded
   * sends records them on its first pass back — taking its rows over first would send them twice.
   */
  private lastPassFailedAt = 0;

  constructor(
    private readonly db: Db,
    private readonly graph: GraphClient | null,
    private readonly inbox: InboxClient,
    private readonly options: OutboxSenderOptions,
    log: Logger,
    private readonly hooks: {
      onStatusesRevived?: (ids: string[]) => void;
      onResult?: (canal: string, result: SendResult) => void;
      /** Another transport for some rows (the sandbox's): its send, or null to send as usual. */
      divert?: (item: OutboxItem, owner: string) => Promise<SendResult> | null;
    } = {},
    /** Evolution lines' transport (rows whose linea is `evo:<code>`). */
    private readonly evolution: EvolutionTransport | null = null,
  ) {
    this.log = log.child({ module: 'outbox' });
    this.limiter = new RateLimiter(options.ratePerSecond);
    this.records = new RecordBatcher(db, this.owner, this.log);
    this.circuit = new CircuitBreaker(options.circuitThreshold, options.circuitOpenMs, Date.now, (state) =>
      this.log[state === 'open' ? 'error' : 'info']({ circuit: state }, `Graph API circuit ${state}`),
    );
    this.loop = new ClaimLoop({
      name: 'outbox',
      pollMs: options.pollMs,
      log: this.log,
      // A pass that sent something looks again at once; an empty one sleeps until woken or polled.
      pass: async () => {
        const claimed = await this.drainOnce();
        return { idle: claimed === 0, again: claimed > 0 };
      },
      onPassError: () => {
        this.lastPassFailedAt = Date.now();
        return { idle: true, again: false };
      },
    });
  }

  start(): void {
    this.loop.start();
  }

  /** New rows were committed: look now instead of at the next poll. */
  wake(): void {
    this.loop.wake();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Resolves when a drain pass found nothing to send (tests and shutdown). */
  whenDrained(): Promise<void> {
    return this.loop.whenIdle();
  }

  /** One claim-and-send pass; returns how many rows it handled. */
  async drainOnce(): Promise<number> {
    if (this.unrecorded.size > 0 && !(await this.flushUnrecorded())) {
      await new Promise((r) => setTimeout(r, 100));
      return 0;
    }
    const channels = this.circuit.current() === 'open' ? ['inbox'] : ['whatsapp', 'inbox'];
    const items = await claimOutbox(this.db, {
      owner: this.owner,
      limit: this.options.concurrency,
      leaseMs: this.options.claimLeaseMs ?? 60_000,
      channels,
      // A claim is taken over only a full lease after it expired: its owner may hold the send's
      // wamid in memory (the database was away when Meta answered) and records it on its first pass
      // back; and not at all right after an outage this sender saw.
      takeOverAfterMs:
        Date.now() - this.lastPassFailedAt > TAKEOVER_GRACE_MS ? (this.options.claimLeaseMs ?? 60_000) : null,
    });
    await Promise.all(items.map((item) => this.handle(item)));
    return items.length;
  }

  get activeSends(): number {
    return this.inFlight;
  }

  private async handle(item: OutboxItem): Promise<void> {
    this.inFlight += 1;
    try {
      const diverted = this.hooks.divert?.(item, this.owner) ?? null;
      const evolution = !diverted && item.canal === 'whatsapp' && isEvolutionSender(item.linea);
      const result = diverted
        ? await diverted
        : evolution
          ? await this.sendEvolution(item)
          : item.canal === 'whatsapp'
            ? await this.sendWhatsapp(item)
            : await this.sendInbox(item);
      this.hooks.onResult?.(evolution ? 'evolution' : item.canal, result);
    } catch (err) {
      // Recording the result failed (database down): the claim expires and the row is retried.
      this.log.warn({ outboxId: item.id, err: { message: (err as Error).message } }, 'could not record outbox result');
    } finally {
      this.inFlight -= 1;
    }
  }

  /**
   * Records a delivery Meta (or the inbox) accepted. If the database is unreachable right now, the
   * fact is kept in memory and recorded as soon as it answers — before this sender claims anything
   * new — so a database outage does not turn every send of that moment into a duplicate later.
   */
  private async record(id: string, wamid: string): Promise<string[]> {
    try {
      return await this.records.record(id, wamid);
    } catch (err) {
      this.unrecorded.set(id, wamid);
      this.log.warn(
        { outboxId: id, err: { message: (err as Error).message } },
        'send accepted but not recorded yet; will record when the database answers',
      );
      return [];
    }
  }

  /** Retries the records that failed; returns false while the database still refuses any of them. */
  private async flushUnrecorded(): Promise<boolean> {
    // Asked for in one turn, so the record batcher writes them together (and row by row only when
    // the shared statement failed for a reason one row may carry).
    const entries = [...this.unrecorded];
    const outcomes = await Promise.allSettled(entries.map(([id, wamid]) => this.records.record(id, wamid)));
    let all = true;
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'rejected') {
        all = false;
        return;
      }
      this.unrecorded.delete(entries[i]![0]);
      if (outcome.value.length > 0) this.hooks.onStatusesRevived?.(outcome.value);
    });
    return all;
  }

  private async sendWhatsapp(item: OutboxItem): Promise<SendResult> {
    const base = { outboxId: item.id, line: item.linea, attempt: item.intentos };
    // Free-form messages only inside the customer-service window (templates are allowed outside it);
    // checked again at send time because a message may have waited in the outbox past the window's end.
    const freeForm = item.payload['type'] !== 'template';
    if (freeForm && item.ventana_fin && Date.parse(item.ventana_fin) < Date.now()) {
      await recordFailure(this.db, {
        id: item.id,
        owner: this.owner,
        retry: false,
        backoffMs: 0,
        code: null,
        error: 'outside_24h_window: customer-service window closed before sending',
      });
      this.log.warn({ ...base, outcome: 'failed', reason: 'outside_24h_window' }, 'outbound not sent: window closed');
      return { outcome: 'failed', code: null };
    }
    if (!this.graph) {
      this.log.info(
        { ...base, type: item.payload['type'], outcome: 'dry_run' },
        'DRY RUN: would send WhatsApp message (no WHATSAPP_ACCESS_TOKEN)',
      );
      await this.records.record(item.id, null);
      return { outcome: 'dry_run', code: null };
    }
    if (!this.circuit.allow()) {
      await recordFailure(this.db, {
        id: item.id,
        owner: this.owner,
        retry: true,
        backoffMs: this.options.circuitOpenMs,
        code: null,
        error: 'circuit open',
      });
      return { outcome: 'retry', code: null };
    }
    await this.limiter.take(item.linea ?? '');
    try {
      const { wamid } = await this.graph.sendMessage(item.linea ?? '', item.payload);
      this.circuit.success();
      const revived = await this.record(item.id, wamid);
      if (revived.length > 0) this.hooks.onStatusesRevived?.(revived);
      this.log.debug({ ...base, outcome: 'sent' }, 'WhatsApp message sent');
      return { outcome: 'sent', code: null };
    } catch (err) {
      const e = err instanceof GraphApiError ? err : new GraphApiError(null, null, String(err), 'transient');
      if (e.kind === 'transient' || e.kind === 'auth') this.circuit.failure();
      else this.circuit.neutral();
      // Throttling, outages and token problems are retried for as long as the customer-service
      // window is open (checked before every attempt), so an outage of any length loses nothing.
      const retry = e.kind !== 'permanent';
      const wait = backoffFor(e.kind, e.metaCode, item.intentos);
      await recordFailure(this.db, {
        id: item.id,
        owner: this.owner,
        retry,
        backoffMs: wait,
        code: e.metaCode ?? e.httpStatus,
        error: e.crmText,
      });
      this.log[retry ? 'warn' : 'error'](
        {
          ...base,
          httpStatus: e.httpStatus,
          code: e.metaCode,
          kind: e.kind,
          outcome: retry ? 'retry' : 'failed',
          backoffMs: retry ? wait : undefined,
        },
        retry ? 'WhatsApp send failed; will retry' : 'WhatsApp send failed for good',
      );
      return { outcome: retry ? 'retry' : 'failed', code: e.metaCode ?? e.httpStatus };
    }
  }

  /** Evolution lines: the transport decides, this records (the same way as a Graph send). */
  private async sendEvolution(item: OutboxItem): Promise<SendResult> {
    const base = { outboxId: item.id, line: item.linea, attempt: item.intentos };
    const result = this.evolution ? await this.evolution.send(item) : ({ outcome: 'dry_run' } as const);
    if (result.outcome === 'dry_run') {
      await this.records.record(item.id, null);
      return { outcome: 'dry_run', code: null };
    }
    if (result.outcome === 'sent') {
      const revived = await this.record(item.id, result.wamid);
      if (revived.length > 0) this.hooks.onStatusesRevived?.(revived);
      this.log.debug({ ...base, outcome: 'sent' }, 'Evolution message sent');
      return { outcome: 'sent', code: null };
    }
    const retry = result.outcome === 'retry' && item.intentos < this.options.maxAttempts * 10;
    await recordFailure(this.db, {
      id: item.id,
      owner: this.owner,
      retry,
      backoffMs: result.backoffMs,
      code: result.code,
      error: result.error,
    });
    this.log[retry ? 'warn' : 'error'](
      {
        ...base,
        httpStatus: result.code,
        outcome: retry ? 'retry' : 'failed',
        backoffMs: retry ? result.backoffMs : undefined,
      },
      retry ? 'Evolution send failed; will retry' : 'Evolution send failed for good',
    );
    return { outcome: retry ? 'retry' : 'failed', code: result.code };
  }

  private async sendInbox(item: OutboxItem): Promise<SendResult> {
    const event = typeof item.payload['event'] === 'string' ? item.payload['event'] : 'message';
    const base = { outboxId: item.id, attempt: item.intentos, event };
    try {
      await this.inbox.deliver(item.destinatario, item.payload, event, item.id);
      await this.record(item.id, `inbox-${item.id}`);
      this.log.debug({ ...base, outcome: 'sent' }, 'inbox notified');
      return { outcome: 'sent', code: null };
    } catch (err) {
      const e = err instanceof InboxDeliveryError ? err : new InboxDeliveryError(null, true, String(err));
      const retry = e.retryable && item.intentos < this.options.maxAttempts;
      await recordFailure(this.db, {
        id: item.id,
        owner: this.owner,
        retry,
        backoffMs: backoffMs(item.intentos, INBOX_BACKOFF),
        code: e.httpStatus,
        error: e.message,
      });
      this.log[retry ? 'warn' : 'error'](
        { ...base, httpStatus: e.httpStatus, outcome: retry ? 'retry' : 'failed' },
        retry ? 'inbox notification failed; will retry' : 'inbox notification failed for good',
      );
      return { outcome: retry ? 'retry' : 'failed', code: e.httpStatus };
    }
  }
}
