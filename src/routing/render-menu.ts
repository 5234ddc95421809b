/**
 * Renders a menu from the database as a message Meta accepts. Menus are edited in the CRM, so any
 * of them may break Meta's limits: every field is cut to its limit and every repair is reported in
 * `warnings` — a menu is never sent to be rejected. Pure: no I/O.
 */

import { fitText, nonBlank } from './limit-text.js';
import { META_LIMITS } from './types.js';
import type { ListRow, Menu, MenuOption, OutboundContent, RenderedMessage, RoutingTexts } from './types.js';

const DEFAULT_BUTTON = 'Ver opciones';

export function renderMenu(menu: Menu, texts: RoutingTexts): RenderedMessage {
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(`menu ${menu.id}: ${message}`);
  };

  if (menu.options.length === 0) {
    warn('no active options, sent as text with the body only');
    return bodyOnly(menu, warn, warnings);
  }
  if (menu.kind === 'text') return renderText(menu, warn, warnings);

  const options = sendableOptions(menu.options, warn);
  if (options.length === 0) {
    warn('no option has a usable id, sent as text with the body only');
    return bodyOnly(menu, warn, warnings);
  }

  if (menu.kind === 'buttons') {
    const buttons = renderButtons(menu, options, warn, warnings);
    if (buttons !== null) return buttons;
  }
  return renderList(menu, options, texts, warn, warnings);
}

/** A menu that cannot offer options still says something rather than nothing. */
function bodyOnly(menu: Menu, warn: (m: string) => void, warnings: string[]): RenderedMessage {
  const body = fitText(bodyOf(menu, warn), META_LIMITS.textBody, `menu ${menu.id}: body`, warnings);
  return { content: { kind: 'text', body }, preview: body, warnings };
}

/** Emoji + title as shown to the customer; the option id when both are blank (Meta rejects empty titles). */
function labelOf(option: MenuOption, warn: (m: string) => void): string {
  const label = [nonBlank(option.emoji), nonBlank(option.title)].filter((p) => p !== null).join(' ');
  if (label !== '') return label;
  warn(`option ${option.optionId} has no title, its id is shown instead`);
  return option.optionId;
}

/** Interactive messages require a body: the menu name stands in for a blank one. */
function bodyOf(menu: Menu, warn: (m: string) => void): string {
  const body = nonBlank(menu.body);
  if (body !== null) return body;
  warn('empty body, the menu name is sent instead');
  return nonBlank(menu.name) ?? menu.id;
}

/**
 * Options that can become rows/buttons: ids are what taps send back, so a duplicate (ambiguous),
 * empty, padded or over-long id (rejected by Meta) cannot be sent; the first of duplicates is kept.
 */
function sendableOptions(options: readonly MenuOption[], warn: (m: string) => void): MenuOption[] {
  const seen = new Set<string>();
  const kept: MenuOption[] = [];
  options.forEach((option, index) => {
    const id = option.optionId;
    if (id.trim() === '' || id !== id.trim() || id.length > META_LIMITS.rowId) {
      warn(`option at position ${index + 1} has an unusable id ${JSON.stringify(id)}, not sent`);
    } else if (seen.has(id)) {
      warn(`duplicate option id ${id} at position ${index + 1}, only the first is sent`);
    } else {
      seen.add(id);
      kept.push(option);
    }
  });
  return kept;
}

/** Header/footer are optional: omitted when blank, cut to their limit otherwise. */
function frame(menu: Menu, warnings: string[], prefix: string): { header?: string; footer?: string } {
  const header = nonBlank(menu.header);
  const footer = nonBlank(menu.footer);
  return {
    ...(header !== null ? { header: fitText(header, META_LIMITS.headerText, prefix + 'header', warnings) } : {}),
    ...(footer !== null ? { footer: fitText(footer, META_LIMITS.footer, prefix + 'footer', warnings) } : {}),
  };
}

/**
 * Reply buttons, or null (with a warning) when they cannot be used: more than 3 options, or titles
 * that repeat after cutting (Meta requires unique button titles). Title warnings are collected
 * aside and kept only when buttons are sent, so a fallback to a list does not report them twice.
 */
function renderButtons(
  menu: Menu,
  options: readonly MenuOption[],
  warn: (m: string) => void,
  warnings: string[],
): RenderedMessage | null {
  const prefix = `menu ${menu.id}: `;
  if (options.length > META_LIMITS.replyButtons) {
    warn(`${options.length} options, sent as a list (Meta allows ${META_LIMITS.replyButtons} reply buttons)`);
    return null;
  }
  const aside: string[] = [];
  const buttons = options.map((o) => ({
    id: o.optionId,
    title: fitText(
      labelOf(o, (m) => aside.push(prefix + m)),
      META_LIMITS.replyButtonTitle,
      `${prefix}option ${o.optionId} title`,
      aside,
    ),
  }));
  if (new Set(buttons.map((b) => b.title)).size !== buttons.length) {
    warn(`reply button titles repeat once cut to ${META_LIMITS.replyButtonTitle} characters, sent as a list`);
    return null;
  }
  warnings.push(...aside);
  const body = fitText(bodyOf(menu, warn), META_LIMITS.body, prefix + 'body', warnings);
  const content: OutboundContent = { kind: 'buttons', ...frame(menu, warnings, prefix), body, buttons };
  return { content, preview: previewOf(body, menu, options, buttons), warnings };
}

function renderList(
  menu: Menu,
  options: readonly MenuOption[],
  texts: RoutingTexts,
  warn: (m: string) => void,
  warnings: string[],
): RenderedMessage {
  const prefix = `menu ${menu.id}: `;
  if (options.length > META_LIMITS.listRowsTotal) {
    warn(
      `${options.length} options, only the first ${META_LIMITS.listRowsTotal} sent (Meta allows ${META_LIMITS.listRowsTotal} rows)`,
    );
  }
  const sent = options.slice(0, META_LIMITS.listRowsTotal);
  const rows: ListRow[] = sent.map((o) => {
    const what = `${prefix}option ${o.optionId}`;
    const description = nonBlank(o.description);
    return {
      id: o.optionId,
      title: fitText(labelOf(o, warn), META_LIMITS.rowTitle, `${what} title`, warnings),
      ...(description !== null
        ? { description: fitText(description, META_LIMITS.rowDescription, `${what} description`, warnings) }
        : {}),
    };
  });
  const body = fitText(bodyOf(menu, warn), META_LIMITS.body, prefix + 'body', warnings);
  const buttonText = nonBlank(menu.buttonText) ?? nonBlank(texts.coursesButton) ?? DEFAULT_BUTTON;
  const sectionTitle = nonBlank(menu.name);
  const content: OutboundContent = {
    kind: 'list',
    ...frame(menu, warnings, prefix),
    body,
    button: fitText(buttonText, META_LIMITS.listButton, prefix + 'button', warnings),
    sections: [
      {
        ...(sectionTitle !== null
          ? { title: fitText(sectionTitle, META_LIMITS.sectionTitle, prefix + 'section title', warnings) }
          : {}),
        rows,
      },
    ],
  };
  return { content, preview: previewOf(body, menu, sent, rows), warnings };
}

/**
 * Numbered text menu. A typed number N selects `menu.options[N - 1]`, so every option is listed at
 * its position — duplicates are only warned about, since dropping one would shift the numbers.
 */
function renderText(menu: Menu, warn: (m: string) => void, warnings: string[]): RenderedMessage {
  const seen = new Set<string>();
  menu.options.forEach((o, index) => {
    if (seen.has(o.optionId)) warn(`duplicate option id ${o.optionId} at position ${index + 1}`);
    seen.add(o.optionId);
  });
  const lines = menu.options.map((o, index) => `${index + 1}. ${labelOf(o, warn).replace(/\s+/g, ' ')}`);
  const footer = nonBlank(menu.footer);
  const full = [bodyOf(menu, warn), '', ...lines, ...(footer !== null ? ['', footer] : [])].join('\n');
  const body = fitText(full, META_LIMITS.textBody, `menu ${menu.id}: text`, warnings);
  return { content: { kind: 'text', body }, preview: body, warnings };
}

/**
 * Plain text for the CRM: the body and the titles as sent, each numbered by its position in
 * `menu.options` — the number a customer can type to select it, even when some were not sent.
 */
function previewOf(body: string, menu: Menu, sent: readonly MenuOption[], shown: readonly { title: string }[]): string {
  const lines = sent.map((o, index) => `${menu.options.indexOf(o) + 1}. ${shown[index]?.title ?? ''}`);
  return [body, '', ...lines].join('\n');
}
