/**
 * WhatsApp Web addresses (jids) as Evolution reports them: `<digits>@s.whatsapp.net` is a phone,
 * `<id>@lid` a privacy id that is not a phone, `<id>@g.us` a group.
 */
export interface Customer {
  /** Phone digits, only ever from an `@s.whatsapp.net` jid. */
  phone: string | null;
  /** The contact's second key: the `@lid`, or the group jid for a group chat. */
  userId: string | null;
  group: boolean;
}

const PHONE_JID = /^(\d{6,20})(?::\d+)?@s\.whatsapp\.net$/;

export const phoneOfJid = (jid: string | null | undefined): string | null =>
  typeof jid === 'string' ? (PHONE_JID.exec(jid)?.[1] ?? null) : null;

/**
 * The customer of a message key. A `@lid` chat names its phone in `remoteJidAlt` (or `senderPn` on
 * newer Evolution releases); a lid alone is never taken as a phone, and it is kept as the contact's
 * second key either way.
 */
export function customerOfKey(key: Record<string, unknown>): Customer | null {
  const remote = typeof key['remoteJid'] === 'string' ? key['remoteJid'] : null;
  if (!remote) return null;
  if (remote.endsWith('@g.us')) return { phone: null, userId: remote, group: true };
  if (remote.endsWith('@lid')) {
    const alt = [key['remoteJidAlt'], key['senderPn']].map((v) => phoneOfJid(v as string)).find((v) => v !== null);
    return { phone: alt ?? null, userId: remote, group: false };
  }
  const phone = phoneOfJid(remote);
  const lid = [key['remoteJidAlt'], key['senderLid']].find((v) => typeof v === 'string' && v.endsWith('@lid'));
  return phone ? { phone, userId: (lid as string | undefined) ?? null, group: false } : null;
}
