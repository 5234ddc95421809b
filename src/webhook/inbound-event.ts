/**
 * The normalised shape of everything Meta can post to the webhook. A batch (one HTTP request) turns
 * into a flat list of these; every later stage (journal, processing, storage) speaks only this
 * language, never Meta's nested envelope. Values are JSON-safe so an event can be stored as jsonb
 * and read back by another process unchanged.
 */

/** `tipo` stored on `mensajes`. Anything Meta invents later becomes `unsupported`, never an error. */
export const MESSAGE_TYPES = [
  'text',
  'image',
  'audio',
  'video',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'button',
  'reaction',
  'order',
  'system',
  'request_welcome',
  'revoke',
  'edit',
  'unsupported',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export const MEDIA_TYPES = ['image', 'audio', 'video', 'document', 'sticker'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

/** An error object as Meta sends it (top level, in a message, or in a failed status). */
export interface MetaError {
  code: number | null;
  title: string | null;
  message: string | null;
  details: string | null;
}

/** Which business number (line) the event belongs to, and which WhatsApp Business Account. */
export interface LineRef {
  /** `metadata.phone_number_id`: the id used to answer from the same number. */
  phoneNumberId: string;
  /** `metadata.display_phone_number`, digits as Meta shows them. */
  displayPhoneNumber: string | null;
  /** `entry[].id`: the WhatsApp Business Account id. */
  wabaId: string;
}

export interface MediaRef {
  id: string;
  mimeType: string | null;
  sha256: string | null;
  filename: string | null;
  caption: string | null;
  /** Audio recorded as a voice note (`audio.voice`). */
  voice: boolean;
  /** Animated sticker (`sticker.animated`). */
  animated: boolean;
}

/** `context` on a message: a reply to an earlier message, or the forwarded flags. */
export interface MessageContext {
  /** wamid of the message being replied to. */
  messageId: string | null;
  from: string | null;
  forwarded: boolean;
  frequentlyForwarded: boolean;
  /** Product enquiry from a catalog message. */
  referredProduct: { catalogId: string | null; productRetailerId: string | null } | null;
}

/** `referral` on a message: the customer came from a click-to-WhatsApp ad or post. */
export interface AdReferral {
  sourceUrl: string | null;
  sourceId: string | null;
  sourceType: string | null;
  headline: string | null;
  body: string | null;
  mediaType: string | null;
  ctwaClid: string | null;
}

/** A tap on an interactive element: list row, reply button, flow (nfm) or template quick reply. */
export interface InteractiveReply {
  kind: 'button_reply' | 'list_reply' | 'nfm_reply' | 'button' | 'unknown';
  /** Option id (list/button reply) or template button payload. */
  id: string | null;
  title: string | null;
  description: string | null;
  /** Flow answers (`nfm_reply.response_json`), parsed when it is JSON. */
  response: unknown;
}

export interface Reaction {
  /** wamid the reaction applies to. */
  messageId: string;
  /** Null when the customer removed the reaction. */
  emoji: string | null;
}

export interface InboundMessageEvent {
  kind: 'message';
  line: LineRef;
  wamid: string;
  /**
   * WhatsApp timestamp, unix seconds — or the receive time (fractional seconds, to the millisecond) when Meta's time was
   * ahead of it: what ordering, windows and previews use.
   */
  timestamp: number;
  /** Meta's own timestamp, present only when it was ahead of the receive time and so replaced. */
  metaTimestamp?: number;
  /** Customer phone digits (`from` / `wa_id`); null for a username-only sender. */
  from: string | null;
  /** 2026 business-scoped user id, present with or without a phone number. */
  userId: string | null;
  username: string | null;
  profileName: string | null;
  type: MessageType;
  /** Meta's own `type` string, kept when `type` had to fall back to `unsupported`. */
  rawType: string;
  /** What an agent reads: body, caption, tapped title, location name, emoji… Null when nothing. */
  text: string | null;
  media: MediaRef | null;
  context: MessageContext | null;
  referral: AdReferral | null;
  interactive: InteractiveReply | null;
  reaction: Reaction | null;
  /** Type-specific remainder (location, contacts, order, system, revoke/edit ids…). */
  details: Record<string, unknown>;
  errors: MetaError[];
  /**
   * Evolution lines only: typed by staff on the line's own phone (stored as the agent's `saliente`
   * row, remitente_nombre 'Teléfono'), never answered.
   */
  fromMe?: boolean;
  /** Evolution lines only: a group chat (`@g.us`), stored against the group, never answered. */
  group?: boolean;
}

export const STATUS_VALUES = ['sent', 'delivered', 'read', 'played', 'failed'] as const;
export type StatusValue = (typeof STATUS_VALUES)[number];

export interface StatusEvent {
  kind: 'status';
  line: LineRef;
  /** wamid of the outbound message the status is about. */
  wamid: string;
  /** Meta's status; an unknown value is kept as-is and ignored by the status machine. */
  status: StatusValue | string;
  /** Meta's time, or the receive time when Meta's was ahead of it (then `metaTimestamp` keeps Meta's). */
  timestamp: number;
  metaTimestamp?: number;
  recipientId: string | null;
  recipientUserId: string | null;
  conversation: { id: string | null; originType: string | null; expiresAt: number | null } | null;
  pricing: { category: string | null; model: string | null; billable: boolean | null } | null;
  errors: MetaError[];
}

/** Top-level `value.errors`: Meta telling us something went wrong on its side. */
export interface WebhookErrorEvent {
  kind: 'error';
  line: LineRef | null;
  field: string;
  errors: MetaError[];
}

/**
 * A change whose `field` is not `messages` (template status, account updates…) or a message item
 * too malformed to normalise. Kept in the journal for audit; never rejected.
 */
export interface OtherEvent {
  kind: 'other';
  line: LineRef | null;
  field: string;
  reason: string;
  value: unknown;
}

export type InboundEvent = InboundMessageEvent | StatusEvent | WebhookErrorEvent | OtherEvent;
