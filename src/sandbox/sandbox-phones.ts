/**
 * Sandbox customers (the /admin/sandbox page) have WhatsApp numbers that no real customer can have:
 * country codes never start with 0, so a wa_id starting with SANDBOX_PHONE_PREFIX is ours. The
 * contact and the conversation the pipeline creates for one carry `metadata.sandbox = true`
 * (store/context-query.ts), so the CRM and its statistics can leave them out, and their replies and
 * inbox notifications are captured by the sandbox transport instead of being sent
 * (outbound/sandbox-transport.ts). README "Operations" documents both marks.
 */
export const SANDBOX_PHONE_PREFIX = '0000';

/** A sandbox customer number: the prefix and seven digits (11 digits, like a real wa_id). */
export const SANDBOX_PHONE = /^0000\d{7}$/;

/** True for a sandbox number in any spelling ('+0000…', '0000…'). */
export function isSandboxPhone(phone: string | null | undefined): boolean {
  if (!phone) return false;
  return SANDBOX_PHONE.test(phone.replace(/[^0-9]/g, ''));
}

/** The test customers the page offers (it can also make a new one). */
export const SANDBOX_CUSTOMERS: readonly { phone: string; name: string }[] = [
  { phone: '00001000001', name: 'Cliente de prueba 1' },
  { phone: '00001000002', name: 'Cliente de prueba 2' },
  { phone: '00001000003', name: 'Cliente de prueba 3' },
];
