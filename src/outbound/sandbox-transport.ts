import type { Logger } from 'pino';
import { isSandboxPhone } from '../sandbox/sandbox-phones.js';
import type { Db } from '../store/db.js';
import { recordSent, type OutboxItem } from '../store/outbox-repository.js';
import type { SendResult } from './outbox-sender.js';

/** True for outbox rows addressed to a sandbox customer: replies to one, inbox notifications about one. */
export function isSandboxItem(item: OutboxItem): boolean {
  if (item.canal === 'whatsapp') return isSandboxPhone(item.destinatario);
  const contact = item.payload['contact'];
  return (
    typeof contact === 'object' && contact !== null && isSandboxPhone((contact as { phone?: string | null }).phone)
  );
}

/**
 * The sandbox's "send": nothing leaves the machine. A reply to a sandbox customer, or an inbox
 * notification about one, is recorded as delivered with a `sandbox.<outbox id>` wamid (so the row,
 * the stored message and the page show it as sent), and never reaches Graph or the inbox webhook.
 * Real customers' rows are not touched: `divert` answers null for them and the sender goes on.
 */
export function sandboxTransport(db: Db, log: Logger) {
  const out = log.child({ module: 'sandbox' });
  return (item: OutboxItem, owner: string): Promise<SendResult> | null => {
    if (!isSandboxItem(item)) return null;
    return (async () => {
      await recordSent(db, item.id, owner, `sandbox.${item.id}`);
      out.debug({ outboxId: item.id, channel: item.canal, outcome: 'sandbox' }, 'sandbox: captured, not sent');
      return { outcome: 'sandbox', code: null } satisfies SendResult;
    })();
  };
}
