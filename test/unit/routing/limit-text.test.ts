import { describe, expect, it } from 'vitest';
import { fitText, limitText, nonBlank } from '../../../src/routing/limit-text.js';

/** A lone surrogate means an emoji was split: Meta would get (or reject) broken text. */
const hasLoneSurrogate = (s: string) =>
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

describe('limitText', () => {
  it('when the text fits, then it is returned unchanged and not marked as cut', () => {
    expect(limitText('Administración', 24)).toEqual({ text: 'Administración', cut: false });
    expect(limitText('x'.repeat(24), 24)).toEqual({ text: 'x'.repeat(24), cut: false });
  });

  it('when the text is too long, then it is cut to exactly the limit and ends with an ellipsis', () => {
    const { text, cut } = limitText('abcdefghijklmnopqrstuvwxyz', 10);
    expect(cut).toBe(true);
    expect(text).toBe('abcdefghi…');
    expect(text).toHaveLength(10);
  });

  it('when an emoji straddles the cut point, then it is dropped whole rather than split', () => {
    // '😀' occupies UTF-16 units 8 and 9; a naive slice(0, 9) would keep only its high surrogate.
    const { text, cut } = limitText('abcdefgh😀xyz', 10);
    expect(cut).toBe(true);
    expect(text).toBe('abcdefgh…');
    expect(hasLoneSurrogate(text)).toBe(false);
  });

  it('when an emoji fits before the cut point, then it is kept whole', () => {
    expect(limitText('abcdefg😀xyz', 10)).toEqual({ text: 'abcdefg😀…', cut: true });
  });

  it('when a ZWJ family or a variation-selector emoji is at the cut point, then no part of it is kept', () => {
    const family = '👨‍👩‍👧'; // 8 UTF-16 units, one grapheme
    expect(limitText(`ab${family}cd`, 8)).toEqual({ text: 'ab…', cut: true });
    // '↩️' is U+21A9 + U+FE0F: the selector must not be left behind nor the base kept without it.
    expect(limitText('abcdefg↩️xyz', 9)).toEqual({ text: 'abcdefg…', cut: true });
  });

  it('when the cut lands after a space, then the space is trimmed before the ellipsis', () => {
    expect(limitText('Hablar con un asesor hoy', 15)).toEqual({ text: 'Hablar con un…', cut: true });
  });

  it('when the limit leaves no room for the ellipsis, then the result is empty or just the ellipsis', () => {
    expect(limitText('abc', 0)).toEqual({ text: '', cut: true });
    expect(limitText('abc', 1)).toEqual({ text: '…', cut: true });
  });

  it('when any prefix of an emoji-heavy text is cut to any limit, then the result is within the limit, well formed and a prefix plus ellipsis', () => {
    const sample = '💳 Administración 👨‍👩‍👧 ↩️ 🇦🇷 1️⃣ ñandú 😀😀';
    for (let end = 0; end <= sample.length; end++) {
      const value = sample.slice(0, end).replace(/[\uD800-\uDBFF]$/, ''); // keep the input itself well formed
      for (let max = 0; max <= 32; max++) {
        const { text, cut } = limitText(value, max);
        expect(text.length).toBeLessThanOrEqual(max);
        expect(hasLoneSurrogate(text)).toBe(false);
        expect(cut).toBe(value.length > max);
        if (cut && text.length > 0) {
          expect(text.endsWith('…')).toBe(true);
          expect(value.startsWith(text.slice(0, -1))).toBe(true);
        }
      }
    }
  });
});

describe('fitText', () => {
  it('when it has to cut, then it records a warning naming the field and the limit', () => {
    const warnings: string[] = [];
    expect(fitText('x'.repeat(30), 20, 'menu m: button', warnings)).toBe(`${'x'.repeat(19)}…`);
    expect(warnings).toEqual(['menu m: button cut to 20 characters (Meta limit)']);
  });

  it('when the text fits, then no warning is recorded', () => {
    const warnings: string[] = [];
    expect(fitText('Ver opciones', 20, 'menu m: button', warnings)).toBe('Ver opciones');
    expect(warnings).toEqual([]);
  });
});

describe('nonBlank', () => {
  it('when the value is null, empty or whitespace, then it is null; otherwise it is trimmed', () => {
    expect(nonBlank(null)).toBeNull();
    expect(nonBlank(undefined)).toBeNull();
    expect(nonBlank('  \n')).toBeNull();
    expect(nonBlank('  Hola ')).toBe('Hola');
  });
});
