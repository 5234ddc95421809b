/**
 * Cutting texts to Meta's interactive limits. Meta's "characters" are not clearly defined, so the
 * limit is applied to the UTF-16 length (never less than code points or graphemes: conservative),
 * while cuts happen only between graphemes so an emoji (surrogate pair, ZWJ sequence, keycap,
 * variation selector) is kept whole or dropped whole, never split into invalid text.
 */

const ELLIPSIS = '…';
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export interface LimitedText {
  text: string;
  cut: boolean;
}

/** `value` unchanged when its UTF-16 length is ≤ `max`; otherwise its longest grapheme prefix + '…' within `max`. */
export function limitText(value: string, max: number): LimitedText {
  const limit = Math.max(0, Math.floor(max));
  if (value.length <= limit) return { text: value, cut: false };
  // No room even for the ellipsis: empty is the only text within the limit.
  if (limit < ELLIPSIS.length) return { text: '', cut: true };
  const budget = limit - ELLIPSIS.length;
  let kept = '';
  for (const { segment } of graphemes.segment(value)) {
    if (kept.length + segment.length > budget) break;
    kept += segment;
  }
  // "Hablar con un …" reads worse than "Hablar con un…"; trimming only shortens, so it stays within the limit.
  return { text: kept.trimEnd() + ELLIPSIS, cut: true };
}

/** `limitText` that records a warning (`<what> cut to <max> characters`) when it had to cut. */
export function fitText(value: string, max: number, what: string, warnings: string[]): string {
  const { text, cut } = limitText(value, max);
  if (cut) warnings.push(`${what} cut to ${max} characters (Meta limit)`);
  return text;
}

/** The trimmed text, or null when it is null/blank: optional Meta fields must be omitted, not sent empty. */
export function nonBlank(value: string | null | undefined): string | null {
  const trimmed = value?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}
