import type { Logger } from 'pino';
import { evolutionMessageId, lineCodeOfSender } from '../evolution/line-ids.js';
import type { Db } from '../store/db.js';
import { listEvolutionLines, type EvolutionLine } from '../store/evolution-line-repository.js';
import type { OutboxItem } from '../store/outbox-repository.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { EvolutionApiError, type EvolutionClient, type EvolutionSendBody } from './evolution-client.js';
import { RateLimiter } from './rate-limiter.js';
import { backoffMs } from '../shared/backoff.js';

export interface EvolutionTransportOptions {
  /** Null = EVOLUTION_API_URL unset: dry run (stored and logged, not sent). */
  client: EvolutionClient | null;
  globalApiKey: string | null;
  defaultRatePerSecond: number;
  circuitThreshold: number;
  circuitOpenMs: number;
  /** How long line settings (instance, apikey, rate) are reused before being read again (CATALOG_TTL_MS). */
  linesTtlMs: number;
}

/** What the outbox sender records for an attempt. */
export type TransportOutcome =
  | { outcome: 'sent'; wamid: string }
  | { outcome: 'dry_run' }
  | { outcome: 'retry' | 'failed'; backoffMs: number; code: number | null; error: string };

/** A disconnected phone usually comes back within minutes: retry from 2 s up to every 5 minutes. */
const EVOLUTION_BACKOFF = { baseMs: 2_000, capMs: 300_000 };

/**
 * The outbox's road to Evolution lines (rows whose `linea` is `evo:<code>`): the line's instance
 * and key (its own apikey, else EVOLUTION_API_KEY), sends spaced per line (`sendRatePerSecond`,
 * WhatsApp Web numbers get banned for bursts), and a circuit breaker per line, so one instance
 * that is down or disconnected holds back only its own messages. No 24 h window applies here.
 */
export class EvolutionTransport {
  private lines: { byCode: Map<string, EvolutionLine>; at: number } | null = null;
  private readonly circuits = new Map<string, CircuitBreaker>();
  private readonly limiters = new Map<string, RateLimiter>();

  constructor(
    private readonly db: Db,
    private readonly options: EvolutionTransportOptions,
    private readonly log: Logger,
  ) {}

  async send(item: OutboxItem): Promise<TransportOutcome> {
    const code = lineCodeOfSender(item.linea ?? '');
    const line = await this.line(code);
    if (!line) return failed(null, `evolution_line_unknown: no Evolution line ${code}`);
    const body = toEvolutionBody(item);
    if (!body) return failed(null, 'unsupported_on_evolution: only text and media messages can be sent');
    if (!this.options.client) {
      this.log.info(
        { outboxId: item.id, line: code, outcome: 'dry_run' },
        'DRY RUN: would send through Evolution API (no EVOLUTION_API_URL)',
      );
      return { outcome: 'dry_run' };
    }
    const apikey = line.evolution_apikey ?? this.options.globalApiKey;
    if (!apikey) return retry(60_000, null, 'evolution_apikey_missing: set EVOLUTION_API_KEY or the line apikey');
    const circuit = this.circuit(code);
    if (!circuit.allow()) return retry(this.options.circuitOpenMs, null, 'circuit open');
    await this.limiter(code, line.envio_por_segundo).take(code);
    try {
      const { id } = await this.options.client.send(line.instancia, apikey, body);
      circuit.success();
      return { outcome: 'sent', wamid: evolutionMessageId(line.instancia, id) };
    } catch (err) {
      const e = err instanceof EvolutionApiError ? err : new EvolutionApiError(null, 'transient', String(err));
      if (e.kind === 'transient') circuit.failure();
      else circuit.neutral();
      return e.kind === 'transient'
        ? retry(backoffMs(item.intentos, EVOLUTION_BACKOFF), e.httpStatus, `evolution: ${e.message}`)
        : failed(e.httpStatus, `evolution: ${e.message}`);
    }
  }

  /** Lines whose circuit is open now (for /ready). */
  openCircuits(): string[] {
    return [...this.circuits].filter(([, c]) => c.current() === 'open').map(([code]) => code);
  }

  private async line(code: string): Promise<EvolutionLine | null> {
    if (!this.lines || Date.now() - this.lines.at >= this.options.linesTtlMs || !this.lines.byCode.has(code)) {
      const rows = await listEvolutionLines(this.db);
      this.lines = { byCode: new Map(rows.map((r) => [r.codigo, r])), at: Date.now() };
    }
    return this.lines.byCode.get(code) ?? null;
  }

  private circuit(code: string): CircuitBreaker {
    let c = this.circuits.get(code);
    if (!c) {
      c = new CircuitBreaker(this.options.circuitThreshold, this.options.circuitOpenMs, Date.now, (state) =>
        this.log[state === 'open' ? 'error' : 'info']({ line: code, circuit: state }, `Evolution circuit ${state}`),
      );
      this.circuits.set(code, c);
    }
    return c;
  }

  private limiter(code: string, rate: number | null): RateLimiter {
    const perSecond = rate ?? this.options.defaultRatePerSecond;
    const key = `${code}:${perSecond}`;
    let l = this.limiters.get(key);
    if (!l) {
      l = new RateLimiter(perSecond);
      this.limiters.set(key, l);
    }
    return l;
  }
}

const retry = (backoffMs: number, code: number | null, error: string): TransportOutcome => ({
  outcome: 'retry',
  backoffMs,
  code,
  error,
});
const failed = (code: number | null, error: string): TransportOutcome => ({
  outcome: 'failed',
  backoffMs: 0,
  code,
  error,
});

/** The outbox holds Graph-shaped bodies (one shape for every line); Evolution wants its own. */
export function toEvolutionBody(item: OutboxItem): EvolutionSendBody | null {
  const p = item.payload;
  const number = item.destinatario;
  if (p['type'] === 'text') {
    const text = (p['text'] as { body?: unknown } | undefined)?.body;
    return typeof text === 'string' ? { kind: 'text', number, text } : null;
  }
  const type = p['type'];
  if (type === 'image' || type === 'video' || type === 'audio' || type === 'document') {
    const m = (p[type] ?? {}) as { link?: unknown; caption?: unknown; filename?: unknown };
    if (typeof m.link !== 'string') return null;
    return {
      kind: 'media',
      number,
      mediatype: type,
      media: m.link,
      ...(typeof m.caption === 'string' ? { caption: m.caption } : {}),
      ...(typeof m.filename === 'string' ? { fileName: m.filename } : {}),
    };
  }
  if (type === 'interactive') {
    // Menus are a Cloud API feature; on WhatsApp Web the body text is what can be sent.
    const body = (p['interactive'] as { body?: { text?: unknown } } | undefined)?.body?.text;
    return typeof body === 'string' ? { kind: 'text', number, text: body } : null;
  }
  return null;
}
