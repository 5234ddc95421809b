/**
 * Webhook body → flat list of normalised events. Only two things throw: a body that is not JSON
 * (PAYLOAD_NOT_JSON) and JSON that is not a webhook envelope (PAYLOAD_NOT_ENVELOPE). Inside a valid
 * envelope every entry, change and item yields at least one event, so nothing Meta sent is silently
 * dropped: unusable items become `other` events kept for audit.
 */
import { badPayload } from '../errors.js';
import { runAtOnce, runSliced, type Steps, type TimeSlicer } from '../shared/time-slicer.js';
import type { InboundEvent, LineRef, OtherEvent } from './inbound-event.js';
import { contactSchema, metadataSchema } from './item-schemas.js';
import type { MetaContact } from './item-schemas.js';
import { toMetaErrors } from './meta-errors.js';
import { isPlainObject, normaliseMessage } from './normalise-message.js';
import { normaliseStatus } from './normalise-status.js';
import { parseEnvelope } from './payload-schema.js';
import type { Envelope, EnvelopeChange } from './payload-schema.js';
import { mayHoldSurrogates, toWellFormedDeep } from './well-formed.js';

/** What normalising needs to know about the request beside its body. */
export interface NormaliseOptions {
  /** When the router received the body (ms since the epoch): no event can be dated later. */
  receivedAtMs: number;
  /** Look for lone UTF-16 surrogates (only a body with `\uD8xx`–`\uDFxx` escapes can hold one). */
  checkUnicode: boolean;
}

const MAX_DEPTH = 64;

/** Deepest nesting of arrays/objects, measured without recursion (the input may be hostile). */
function* nestingDepth(root: unknown): Steps<number> {
  let max = 0;
  let visited = 0;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    if (++visited % 4096 === 0) yield;
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > max) max = depth;
    if (max > MAX_DEPTH) return max;
    for (const child of Array.isArray(value) ? value : Object.values(value)) stack.push([child, depth + 1]);
  }
  return max;
}

const dropNul = (_key: string, value: unknown): unknown =>
  typeof value === 'string' ? value.replaceAll('\u0000', '') : value;

/** Parses and normalises a raw webhook body (the exact bytes whose signature was checked). */
export function parseWebhookBody(raw: Buffer, receivedAtMs: number = Date.now()): InboundEvent[] {
  return runAtOnce(parseSteps(raw, receivedAtMs));
}

/**
 * The same, giving the event loop back between slices of the work: a 5 MB batch holds 50,000
 * items, and normalising them in one run stalled every other request for over a second.
 */
export function parseWebhookBodySliced(
  raw: Buffer,
  slicer: TimeSlicer,
  receivedAtMs: number = Date.now(),
): Promise<InboundEvent[]> {
  return runSliced(parseSteps(raw, receivedAtMs), slicer);
}

function* parseSteps(raw: Buffer, receivedAtMs: number): Steps<InboundEvent[]> {
  let json: unknown;
  let checkUnicode = false;
  try {
    const text = raw.toString('utf8');
    checkUnicode = mayHoldSurrogates(text);
    // PostgreSQL text and jsonb cannot hold U+0000: one such character would make the whole batch
    // unstorable (and Meta would redeliver it forever). It carries no meaning in a message: drop it.
    json = (text.includes('\\u0000') ? JSON.parse(text, dropNul) : JSON.parse(text)) as unknown;
  } catch (cause) {
    throw badPayload('PAYLOAD_NOT_JSON', 'body is not valid JSON', {
      bytes: raw.length,
      reason: cause instanceof Error ? cause.message : String(cause),
    });
  }
  yield;
  if ((yield* nestingDepth(json)) > MAX_DEPTH) {
    // Meta's envelopes nest about ten levels; thousands would overflow JSON.stringify and exceed
    // PostgreSQL's jsonb depth, turning a hostile body into a 500. Refuse it as not an envelope.
    throw badPayload('PAYLOAD_NOT_ENVELOPE', `body nests deeper than ${MAX_DEPTH} levels`, { issues: ['(depth)'] });
  }
  if (!isPlainObject(json)) {
    throw badPayload('PAYLOAD_NOT_ENVELOPE', 'body is JSON but not an object', {
      issues: ['(root)'],
      jsonType: json === null ? 'null' : Array.isArray(json) ? 'array' : typeof json,
    });
  }
  return yield* normaliseSteps(parseEnvelope(json), { receivedAtMs, checkUnicode });
}

/**
 * Every entry × change, in payload order. Message and status items with lone surrogates become
 * `other` events (normalise-message.ts); every other event is kept with them replaced by U+FFFD,
 * since jsonb cannot hold them either.
 */
export function normaliseEnvelope(
  envelope: Envelope,
  options: NormaliseOptions = { receivedAtMs: Date.now(), checkUnicode: true },
): InboundEvent[] {
  return runAtOnce(normaliseSteps(envelope, options));
}

function* normaliseSteps(envelope: Envelope, options: NormaliseOptions): Steps<InboundEvent[]> {
  const events: InboundEvent[] = [];
  for (const entry of envelope.entry) {
    for (const change of entry.changes) {
      for (const event of yield* normaliseChange(entry.id, change, options)) events.push(event);
    }
  }
  if (!options.checkUnicode) return events;
  return events.map((e) => (e.kind === 'other' || e.kind === 'error' ? toWellFormedDeep(e) : e));
}

function* normaliseChange(wabaId: string, change: EnvelopeChange, options: NormaliseOptions): Steps<InboundEvent[]> {
  const { field, value } = change;
  const line = readLine(wabaId, value['metadata']);
  const other = (reason: string, v: unknown): OtherEvent => ({ kind: 'other', line, field, reason, value: v });

  // Template status, quality, account updates…: not ours to interpret here, but kept for audit.
  if (field !== 'messages') return [other('unhandled_field', value)];

  const events: InboundEvent[] = [];
  if (value['errors'] !== undefined) {
    events.push({ kind: 'error', line, field, errors: toMetaErrors(value['errors']) });
  }

  const contacts = yield* readContacts(value['contacts']);
  const messages = value['messages'];
  if (Array.isArray(messages)) {
    for (const item of messages) {
      events.push(normaliseMessage(item, { line, field, contacts, ...options }));
      yield;
    }
  } else if (messages !== undefined) {
    events.push(other('malformed_messages: not an array', messages));
  }

  const statuses = value['statuses'];
  if (Array.isArray(statuses)) {
    for (const item of statuses) {
      events.push(normaliseStatus(item, line, field, options));
      yield;
    }
  } else if (statuses !== undefined) {
    events.push(other('malformed_statuses: not an array', statuses));
  }

  // A messages change with nothing we recognise (e.g. a shape Meta introduces later).
  if (events.length === 0) events.push(other('no_items', value));
  return events;
}

/** `value.metadata` + `entry.id` → the line; null when metadata is missing or has no phone_number_id. */
function readLine(wabaId: string, metadata: unknown): LineRef | null {
  const parsed = metadataSchema.safeParse(metadata);
  if (!parsed.success) return null;
  return {
    phoneNumberId: parsed.data.phone_number_id,
    displayPhoneNumber: parsed.data.display_phone_number ?? null,
    wabaId,
  };
}

function* readContacts(raw: unknown): Steps<MetaContact[]> {
  const contacts: MetaContact[] = [];
  if (!Array.isArray(raw)) return contacts;
  for (const c of raw) {
    const parsed = contactSchema.safeParse(c);
    if (parsed.success) contacts.push(parsed.data);
    yield;
  }
  return contacts;
}
