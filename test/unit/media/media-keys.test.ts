import { describe, expect, it } from 'vitest';
import {
  baseMimeType,
  buildMediaKey,
  extensionFor,
  isSafeMediaKey,
  sanitizeFilename,
} from '../../../src/media/media-keys.js';

const AT = new Date('2025-03-09T23:59:00Z');
const ID_A = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const ID_B = '9b2e1c44-77aa-4c1e-8a53-0a1b2c3d4e5f';

describe('media keys', () => {
  it('when two messages carry a document with the same name, then their keys differ', () => {
    const a = buildMediaKey({
      messageId: ID_A,
      type: 'document',
      filename: 'factura.pdf',
      mimeType: 'application/pdf',
      createdAt: AT,
    });
    const b = buildMediaKey({
      messageId: ID_B,
      type: 'document',
      filename: 'factura.pdf',
      mimeType: 'application/pdf',
      createdAt: AT,
    });
    expect(a).toBe(`2025/03/${ID_A}/factura.pdf`);
    expect(b).toBe(`2025/03/${ID_B}/factura.pdf`);
  });

  it('when media has no file name, then the key is named after the type with the extension of its mime type', () => {
    expect(
      buildMediaKey({
        messageId: ID_A,
        type: 'audio',
        filename: null,
        mimeType: 'audio/ogg; codecs=opus',
        createdAt: AT,
      }),
    ).toBe(`2025/03/${ID_A}/audio.ogg`);
    expect(
      buildMediaKey({ messageId: ID_A, type: 'sticker', filename: null, mimeType: 'image/webp', createdAt: AT }),
    ).toBe(`2025/03/${ID_A}/sticker.webp`);
    expect(
      buildMediaKey({ messageId: ID_A, type: 'video', filename: null, mimeType: 'video/x-unknown', createdAt: AT }),
    ).toBe(`2025/03/${ID_A}/video.bin`);
  });

  it('when a file name has no extension, then the mime type supplies one', () => {
    expect(
      buildMediaKey({
        messageId: ID_A,
        type: 'document',
        filename: 'contrato',
        mimeType: 'application/pdf',
        createdAt: AT,
      }),
    ).toBe(`2025/03/${ID_A}/contrato.pdf`);
  });

  it.each([
    ['inscripción 2025 (copia).pdf', 'inscripcion-2025-copia-.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\ana\\DNI frente.jpg', 'DNI-frente.jpg'],
    ['.htaccess', 'htaccess'],
    ['....', null],
    ['🎓📄', null],
    ['résumé..final.docx', 'resume.final.docx'],
  ])('when the customer names a file %j, then the key uses %j', (input, expected) => {
    expect(sanitizeFilename(input)).toBe(expected);
  });

  it('when a file name is very long, then it is cut to 80 characters and keeps its extension', () => {
    const name = sanitizeFilename(`${'a'.repeat(200)}.pdf`);
    expect(name).toHaveLength(80);
    expect(name!.endsWith('.pdf')).toBe(true);
  });

  it('when keys are checked, then only what buildMediaKey produces is safe', () => {
    expect(isSafeMediaKey(`2025/03/${ID_A}/factura.pdf`)).toBe(true);
    for (const bad of [
      '',
      '../secret',
      '2025/../x.pdf',
      '/abs/path.pdf',
      '2025//x.pdf',
      '2025/03/.hidden',
      'a b.pdf',
      '2025/03/%2e%2e',
    ]) {
      expect(isSafeMediaKey(bad)).toBe(false);
    }
  });

  it('when a mime type has parameters or capitals, then the base type decides the extension', () => {
    expect(baseMimeType('Audio/OGG; codecs=opus')).toBe('audio/ogg');
    expect(baseMimeType(null)).toBeNull();
    expect(extensionFor('image/jpeg')).toBe('jpg');
    expect(extensionFor('application/vnd.openxmlformats-officedocument.wordprocessingml.document')).toBe('docx');
  });
});
