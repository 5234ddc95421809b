/** Identifiers shaped like Meta's, unique per process without any coordination. */
import { createHash, randomBytes } from 'node:crypto';

/** Meta's documentation samples, used where a real account would put its own ids. */
export const SAMPLE_WABA_ID = '102290129340398';
export const SAMPLE_DISPLAY_PHONE_NUMBER = '15550783881';
export const SAMPLE_PHONE_NUMBER_ID = '106540352242922';

// A random per-process prefix keeps wamids of simulators in different processes apart.
const PROCESS_PREFIX = randomBytes(4).toString('hex');
let counter = 0;

/**
 * `wamid.HBgN…`: like Meta's, base64 of a small binary header, the recipient and a 20-hex-digit id.
 * Cheap (one small buffer), as it runs on every accepted send.
 */
export function nextWamid(to: string): string {
  counter += 1;
  const tail = (PROCESS_PREFIX + counter.toString(16).padStart(12, '0')).toUpperCase();
  const bytes = Buffer.from(
    `\x1c\x18${String.fromCharCode(to.length & 0x7f)}${to}\x15\x02\x00\x12\x18\x14${tail}\x00`,
    'latin1',
  );
  return `wamid.${bytes.toString('base64')}`;
}

/** Meta reports phone numbers as digits only; anything else (a username-based BSUID) is kept as is. */
export function toWaId(to: string): string {
  return /^\+?[\d\s\-().]+$/.test(to) ? to.replace(/\D/g, '') : to;
}

/** A stable 32-hex conversation id per (line, recipient), as Meta reuses one per open conversation. */
export function conversationId(phoneNumberId: string, recipient: string): string {
  return createHash('md5').update(`${phoneNumberId}:${recipient}`).digest('hex');
}
