/**
 * Meta's checks for `type: 'interactive'` bodies. List and reply-button messages are validated to
 * the limits in META_LIMITS (the ones the router renders against); other interactive types are only
 * checked for shape, since the router does not send them.
 */
import { META_LIMITS as L } from '../routing/types.js';
import {
  firstViolation,
  invalidValue,
  isObject,
  optionalText,
  required,
  requiredText,
  wrongType,
  type Json,
  type Violation,
} from './validation-kit.js';

const OTHER_INTERACTIVE_TYPES = new Set([
  'cta_url',
  'flow',
  'product',
  'product_list',
  'catalog_message',
  'location_request_message',
  'address_message',
  'call_permission_request',
  'voice_call',
]);
const BUTTON_HEADER_TYPES = new Set(['text', 'image', 'video', 'document']);
const P = "interactive['action']";

export function validateInteractive(interactive: unknown): Violation | null {
  if (!isObject(interactive)) return required('interactive');
  const type = interactive['type'];
  if (type === 'list') return validateList(interactive);
  if (type === 'button') return validateButtons(interactive);
  if (typeof type === 'string' && OTHER_INTERACTIVE_TYPES.has(type)) return null;
  return type === undefined
    ? required("interactive['type']")
    : wrongType("interactive['type']", 'a supported interactive type');
}

/** body (required) and footer (optional) are common to lists and buttons. */
function bodyAndFooter(i: Json): Violation | null {
  const body = i['body'];
  if (!isObject(body)) return required("interactive['body']");
  return firstViolation(
    () => requiredText(body['text'], "interactive['body']['text']", L.body),
    () => {
      const footer = i['footer'];
      if (footer === undefined) return null;
      if (!isObject(footer)) return wrongType("interactive['footer']", 'an object');
      return requiredText(footer['text'], "interactive['footer']['text']", L.footer);
    },
  );
}

function textHeader(header: Json): Violation | null {
  return requiredText(header['text'], "interactive['header']['text']", L.headerText);
}

function validateList(i: Json): Violation | null {
  return firstViolation(
    () => {
      const header = i['header'];
      if (header === undefined) return null;
      if (!isObject(header)) return wrongType("interactive['header']", 'an object');
      // Lists only take text headers.
      if (header['type'] !== 'text') return wrongType("interactive['header']['type']", "'text' for list messages");
      return textHeader(header);
    },
    () => bodyAndFooter(i),
    () => {
      const action = i['action'];
      if (!isObject(action)) return required(P);
      return requiredText(action['button'], `${P}['button']`, L.listButton) ?? listSections(action['sections']);
    },
  );
}

function listSections(sections: unknown): Violation | null {
  const path = `${P}['sections']`;
  if (sections === undefined) return required(path);
  if (!Array.isArray(sections)) return wrongType(path, 'an array');
  if (sections.length === 0) return invalidValue(`${path} must have at least 1 section`);
  if (sections.length > L.listSections) return invalidValue(`${path} must have at most ${L.listSections} sections`);
  let totalRows = 0;
  for (const [s, section] of sections.entries()) {
    if (!isObject(section)) return wrongType(`${path}[${s}]`, 'an object');
    const rows = section['rows'];
    if (rows === undefined) return required(`${path}[${s}]['rows']`);
    if (!Array.isArray(rows)) return wrongType(`${path}[${s}]['rows']`, 'an array');
    if (rows.length === 0) return invalidValue(`${path}[${s}]['rows'] must have at least 1 row`);
    totalRows += rows.length;
  }
  if (totalRows > L.listRowsTotal) return invalidValue(`Total row count exceed max allowed count: ${L.listRowsTotal}`);
  const ids = new Set<string>();
  for (const [s, section] of (sections as Json[]).entries()) {
    const titlePath = `${path}[${s}]['title']`;
    // A title is optional for a lone section but required as soon as there are several.
    const titleCheck = sections.length > 1 ? requiredText : optionalText;
    const v =
      titleCheck(section['title'], titlePath, L.sectionTitle) ??
      listRows(section['rows'] as unknown[], `${path}[${s}]['rows']`, ids);
    if (v) return v;
  }
  return null;
}

function listRows(rows: unknown[], path: string, ids: Set<string>): Violation | null {
  for (const [r, row] of rows.entries()) {
    const at = `${path}[${r}]`;
    if (!isObject(row)) return wrongType(at, 'an object');
    const v =
      requiredText(row['id'], `${at}['id']`, L.rowId) ??
      requiredText(row['title'], `${at}['title']`, L.rowTitle) ??
      optionalText(row['description'], `${at}['description']`, L.rowDescription);
    if (v) return v;
    const id = row['id'] as string;
    if (ids.has(id)) return invalidValue(`Row IDs must be unique; '${id}' appears more than once`);
    ids.add(id);
  }
  return null;
}

function validateButtons(i: Json): Violation | null {
  return firstViolation(
    () => {
      const header = i['header'];
      if (header === undefined) return null;
      if (!isObject(header)) return wrongType("interactive['header']", 'an object');
      const type = header['type'];
      if (typeof type !== 'string' || !BUTTON_HEADER_TYPES.has(type)) {
        return wrongType("interactive['header']['type']", 'one of text, image, video, document');
      }
      if (type === 'text') return textHeader(header);
      const media = header[type];
      return isObject(media) && (typeof media['id'] === 'string' || typeof media['link'] === 'string')
        ? null
        : required(`interactive['header']['${type}']`);
    },
    () => bodyAndFooter(i),
    () => {
      const action = i['action'];
      if (!isObject(action)) return required(P);
      return replyButtons(action['buttons']);
    },
  );
}

function replyButtons(buttons: unknown): Violation | null {
  const path = `${P}['buttons']`;
  if (buttons === undefined) return required(path);
  if (!Array.isArray(buttons)) return wrongType(path, 'an array');
  if (buttons.length < 1 || buttons.length > L.replyButtons) {
    return invalidValue(`${path} must have between 1 and ${L.replyButtons} elements`);
  }
  const ids = new Set<string>();
  for (const [b, button] of buttons.entries()) {
    const at = `${path}[${b}]`;
    if (!isObject(button)) return wrongType(at, 'an object');
    if (button['type'] !== 'reply') return wrongType(`${at}['type']`, "'reply'");
    const reply = button['reply'];
    if (!isObject(reply)) return required(`${at}['reply']`);
    const v =
      requiredText(reply['id'], `${at}['reply']['id']`, L.replyButtonId) ??
      requiredText(reply['title'], `${at}['reply']['title']`, L.replyButtonTitle);
    if (v) return v;
    const id = reply['id'] as string;
    if (ids.has(id)) return invalidValue(`Button IDs must be unique; '${id}' appears more than once`);
    ids.add(id);
  }
  return null;
}
