import { signBody } from '../../src/webhook/verify-signature.js';
import { imageMessage, inboundEnvelope, listReplyMessage, textMessage } from '../../test/fixtures/whatsapp/builders.js';
import { buildRequest, type RequestSpec } from './http-load.js';

/**
 * What a customer does, step by step, and whether the router answers that step: first contact,
 * menu taps, a derivation, chatter and a photo while derived (forwarded, unanswered), back to the
 * menu, a second derivation. Statuses for every reply come from the Graph simulator's webhooks.
 */
const SCRIPT: { kind: 'text' | 'tap' | 'image'; value: string; reply: boolean }[] = [
  { kind: 'text', value: 'hola', reply: true },
  { kind: 'tap', value: 'inscripciones', reply: true },
  { kind: 'tap', value: 'inscripciones_asesor', reply: true },
  { kind: 'text', value: 'quería saber el precio del curso de marzo', reply: false },
  { kind: 'image', value: 'comprobante', reply: false },
  { kind: 'text', value: '¿me pueden llamar después de las 18?', reply: false },
  { kind: 'text', value: 'MENU', reply: true },
  { kind: 'tap', value: 'administracion', reply: true },
];
export const STEPS_PER_CUSTOMER = SCRIPT.length;
/**
 * Seconds between one customer's messages, in WhatsApp time: as a person types. At one a second the
 * router's flood limit (REPLY_FLOOD_MESSAGES in REPLY_FLOOD_SECONDS) would rightly stop answering.
 */
const STEP_SECONDS = 3;
export const REPLIES_PER_CUSTOMER = SCRIPT.filter((s) => s.reply).length;

/** Step `step` of SCRIPT as `from` sends it at WhatsApp time `ts`, and whether the router answers it. */
export function scriptStep(from: string, step: number, ts: number) {
  const s = SCRIPT[step]!;
  const msg =
    s.kind === 'text'
      ? textMessage({ from, body: s.value, timestamp: ts })
      : s.kind === 'tap'
        ? listReplyMessage({ from, rowId: s.value, title: s.value, timestamp: ts })
        : imageMessage({ from, caption: s.value, timestamp: ts });
  return { msg, reply: s.reply };
}

/** WhatsApp time of a customer's step: STEP_SECONDS apart, all in the past (a future one would be clamped). */
export const stepTimestamp = (baseTs: number, step: number): number => baseTs + step * STEP_SECONDS;
export const scriptBaseTs = (): number => Math.floor(Date.now() / 1000) - STEP_SECONDS * STEPS_PER_CUSTOMER - 5;

export interface ConversationLoadOptions {
  secret: string;
  phonePrefix: string;
  customers: number;
  /** Every Nth request is a redelivery of an earlier body (Meta's at-least-once). */
  duplicateEvery?: number;
  path?: string;
}

/**
 * Round-robin over customers, each following SCRIPT in order, so one customer's messages are far
 * apart in time (as people type) while the router sees all customers at once. Records, per phone,
 * when replies are expected, so end-to-end latency can be matched at the simulator.
 */
export class ConversationLoad {
  private step = 0;
  private customer = 0;
  private sentBodies: Buffer[] = [];
  private count = 0;
  readonly expected = new Map<string, number[]>();
  readonly inbound: string[] = [];
  readonly e2e: number[] = [];
  duplicatesSent = 0;
  private readonly baseTs = scriptBaseTs();

  constructor(private readonly o: ConversationLoadOptions) {}

  get total(): number {
    return this.o.customers * STEPS_PER_CUSTOMER;
  }

  phone(c: number): string {
    return `${this.o.phonePrefix}${String(c).padStart(7, '0')}`;
  }

  next(): RequestSpec | null {
    this.count += 1;
    const dupEvery = this.o.duplicateEvery ?? 0;
    if (dupEvery > 0 && this.count % dupEvery === 0 && this.sentBodies.length > 0) {
      const body = this.sentBodies[Math.floor(Math.random() * this.sentBodies.length)]!;
      this.duplicatesSent += 1;
      return { bytes: this.request(body) };
    }
    if (this.step >= STEPS_PER_CUSTOMER) return null;
    const c = this.customer;
    const from = this.phone(c);
    const { msg, reply } = scriptStep(from, this.step, stepTimestamp(this.baseTs, this.step));
    const body = Buffer.from(JSON.stringify(inboundEnvelope(msg)), 'utf8');
    if (this.sentBodies.length < 5_000) this.sentBodies.push(body);
    this.inbound.push(msg.id);
    this.customer += 1;
    if (this.customer >= this.o.customers) {
      this.customer = 0;
      this.step += 1;
    }
    return {
      bytes: this.request(body),
      done: (o) => {
        if (reply && o.status === 200) {
          // Intended send time, in the epoch clock the simulator stamps replies with.
          const list = this.expected.get(from) ?? [];
          list.push(performance.timeOrigin + performance.now() - o.latencyMs);
          this.expected.set(from, list);
        }
      },
    };
  }

  /** Matches a reply accepted by the simulator (epoch ms `at`) to the oldest open message of `to`. */
  replied(to: string, at: number): void {
    const list = this.expected.get(to);
    const sentAt = list?.shift();
    if (sentAt !== undefined) this.e2e.push(at - sentAt);
  }

  outstandingReplies(): number {
    let n = 0;
    for (const l of this.expected.values()) n += l.length;
    return n;
  }

  private request(body: Buffer): Buffer {
    return buildRequest(this.o.path ?? '/webhook', body, {
      'content-type': 'application/json',
      'x-hub-signature-256': signBody(body, this.o.secret),
    });
  }
}
