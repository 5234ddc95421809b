/**
 * Validates a POST /{phone-number-id}/messages body the way the Cloud API does, returning either
 * the fields the simulator records or the violation Meta would answer with (HTTP 400).
 */
import { META_LIMITS } from '../routing/types.js';
import { MESSAGE_TYPES, type MessageType } from './types.js';
import { validateInteractive } from './validate-interactive.js';
import {
  isObject,
  optionalText,
  required,
  requiredText,
  wrongType,
  type Json,
  type Violation,
} from './validation-kit.js';

export type ValidatedMessage = { ok: true; to: string; type: MessageType; body: Json } | ({ ok: false } & Violation);

const TYPES: ReadonlySet<string> = new Set(MESSAGE_TYPES);
const MEDIA_TYPES: ReadonlySet<string> = new Set(['image', 'audio', 'video', 'document', 'sticker']);
const CAPTIONED: ReadonlySet<string> = new Set(['image', 'video', 'document']);
/** Media captions share the body limit of interactive messages. */
const CAPTION_MAX = 1024;

export function validateMessage(body: unknown): ValidatedMessage {
  if (!isObject(body)) return fail(wrongType('body', 'a JSON object'));
  if (body['messaging_product'] !== 'whatsapp') {
    return fail(
      body['messaging_product'] === undefined
        ? required('messaging_product')
        : wrongType('messaging_product', "'whatsapp'"),
    );
  }
  const to = body['to'];
  if (typeof to !== 'string' || to.trim() === '')
    return fail(to === undefined ? required('to') : wrongType('to', 'a non-empty string'));
  const rt = body['recipient_type'];
  if (rt !== undefined && rt !== 'individual' && rt !== 'group')
    return fail(wrongType('recipient_type', "'individual' or 'group'"));
  // Meta defaults `type` to text when it is left out.
  const type = body['type'] ?? 'text';
  if (typeof type !== 'string' || !TYPES.has(type))
    return fail(wrongType('type', `one of ${MESSAGE_TYPES.join(', ')}`));
  const violation = validateContent(type as MessageType, body);
  return violation ? fail(violation) : { ok: true, to, type: type as MessageType, body };
}

function fail(v: Violation): ValidatedMessage {
  return { ok: false, ...v };
}

function validateContent(type: MessageType, body: Json): Violation | null {
  const content = body[type];
  switch (type) {
    case 'text':
      if (!isObject(content)) return required('text');
      return requiredText(content['body'], "text['body']", META_LIMITS.textBody);
    case 'interactive':
      return validateInteractive(content);
    case 'template':
      return validateTemplate(content);
    case 'location':
      return validateLocation(content);
    case 'contacts':
      return Array.isArray(content) && content.length > 0 && content.every(isObject) ? null : required('contacts');
    case 'reaction':
      if (!isObject(content)) return required('reaction');
      if (typeof content['message_id'] !== 'string' || content['message_id'] === '')
        return required("reaction['message_id']");
      // An empty emoji removes the reaction, so only its type is checked.
      return typeof content['emoji'] === 'string' ? null : required("reaction['emoji']");
    default:
      return MEDIA_TYPES.has(type) ? validateMedia(type, content) : null;
  }
}

function validateTemplate(t: unknown): Violation | null {
  if (!isObject(t)) return required('template');
  if (typeof t['name'] !== 'string' || t['name'] === '') return required("template['name']");
  const language = t['language'];
  if (!isObject(language)) return required("template['language']");
  if (typeof language['code'] !== 'string' || language['code'] === '') return required("template['language']['code']");
  return null;
}

function validateLocation(l: unknown): Violation | null {
  if (!isObject(l)) return required('location');
  for (const key of ['latitude', 'longitude'] as const) {
    const v = l[key];
    if (v === undefined) return required(`location['${key}']`);
    if (!Number.isFinite(typeof v === 'string' ? Number(v) : v)) return wrongType(`location['${key}']`, 'a number');
  }
  return null;
}

function validateMedia(type: string, m: unknown): Violation | null {
  if (!isObject(m)) return required(type);
  if (typeof m['id'] !== 'string' && typeof m['link'] !== 'string') return required(`${type}['id'] or ${type}['link']`);
  return CAPTIONED.has(type) ? optionalText(m['caption'], `${type}['caption']`, CAPTION_MAX) : null;
}
