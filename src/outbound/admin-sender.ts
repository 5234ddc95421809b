import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { Db } from '../store/db.js';
import { queueAdminMessage, type AdminSendResult } from '../store/admin-send-repository.js';

const sendSchema = z
  .object({
    conversationId: z.uuid().optional(),
    to: z
      .string()
      .regex(/^\+?\d{6,16}$/, 'must be a phone number in E.164 (digits, optional +)')
      .optional(),
    line: z
      .string()
      .regex(/^[a-z0-9_]{1,40}$/, 'must be a line code such as wsp4')
      .optional(),
    text: z.string().trim().min(1).max(4096).optional(),
    template: z
      .object({
        name: z.string().min(1).max(512),
        language: z.string().min(2).max(15),
        components: z.array(z.record(z.string(), z.unknown())).max(10).optional(),
      })
      .optional(),
    agentName: z.string().max(120).optional(),
  })
  .refine((v) => (v.text === undefined) !== (v.template === undefined), {
    message: 'give exactly one of text or template',
    path: ['text'],
  })
  .refine((v) => Boolean(v.conversationId) !== Boolean(v.to && v.line), {
    message: 'give conversationId, or to and line',
    path: ['conversationId'],
  });

export type AdminSendResponse = Exclude<AdminSendResult, { status: 'not_found' | 'key_reused' }>;

/** Longest Idempotency-Key accepted; a longer one is refused rather than silently ignored. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/**
 * Sends for the CRM (agents answering from the CRM): validated, stored as `saliente`, queued in the
 * outbox (so Meta rate limits, retries and status tracking apply), with free-form text refused
 * outside the 24 h window. The API itself is rate limited per process (`ratePerSecond`) so a CRM
 * bug cannot flood the outbox.
 */
export class AdminSender {
  private windowStart = 0;
  private used = 0;
  private sent = 0;

  constructor(
    private readonly db: Db,
    private readonly ratePerSecond: number,
    private readonly wake: () => void,
  ) {}

  async send(raw: unknown, idempotencyKey: string | null): Promise<AdminSendResponse> {
    if (
      idempotencyKey !== null &&
      (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)
    ) {
      throw new AppError('VALIDATION_FAILED', `Idempotency-Key: must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
    }
    const parsed = sendSchema.safeParse(raw);
    if (!parsed.success) {
      throw new AppError(
        'VALIDATION_FAILED',
        parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      );
    }
    this.take();
    const v = parsed.data;
    const body: Record<string, unknown> = v.text
      ? {
          messaging_product: 'whatsapp',
          recipient_type: 'individual',
          type: 'text',
          text: { preview_url: false, body: v.text },
        }
      : {
          messaging_product: 'whatsapp',
          recipient_type: 'individual',
          type: 'template',
          template: {
            name: v.template!.name,
            language: { code: v.template!.language },
            ...(v.template!.components ? { components: v.template!.components } : {}),
          },
        };
    const result = await queueAdminMessage(this.db, {
      conversationId: v.conversationId ?? null,
      phoneDigits: v.to ? v.to.replace(/^\+/, '') : null,
      line: v.line ?? null,
      body,
      preview: v.text ?? `[plantilla ${v.template!.name}]`,
      tipo: v.text ? 'text' : 'template',
      requiresWindow: v.text !== undefined,
      agentName: v.agentName ?? null,
      idempotencyKey,
      // What the key was first used for: the same key with another request is a caller's bug (422).
      requestHash: idempotencyKey === null ? null : requestHash(v),
    });
    if (result.status === 'not_found') throw new AppError('NOT_FOUND', 'no such conversation');
    if (result.status === 'key_reused') {
      throw new AppError(
        'IDEMPOTENCY_KEY_REUSED',
        'this Idempotency-Key was already used for a different request; nothing was sent',
        {
          details: { messageId: result.messageId, conversationId: result.conversationId },
        },
      );
    }
    if (result.status === 'outside_window') {
      throw new AppError(
        'OUTSIDE_WINDOW',
        'the customer-service window is closed: free-form text is refused (recorded as fallido); send a template',
        {
          details: { messageId: result.messageId, conversationId: result.conversationId, windowEnd: result.windowEnd },
        },
      );
    }
    if (result.status === 'queued') {
      this.sent += 1;
      this.wake();
    }
    return result;
  }

  stats() {
    return { adminSends: this.sent };
  }

  /** Fixed one-second window: enough to stop a runaway caller, simple to reason about. */
  private take(): void {
    const now = Date.now();
    if (now - this.windowStart >= 1_000) {
      this.windowStart = now;
      this.used = 0;
    }
    this.used += 1;
    if (this.used > this.ratePerSecond)
      throw new AppError('RATE_LIMITED', `admin sends are limited to ${this.ratePerSecond} per second`);
  }
}

/** SHA-256 of the validated request with its keys sorted: the same request hashes alike however it is spelled. */
function requestHash(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
