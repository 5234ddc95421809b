/**
 * Global commands are matched trimmed, case- and accent-insensitively ("menú", " Menu ", "ATRÁS"):
 * customers type them every way. NFD splits accents off so they can be dropped.
 */
export function normaliseCommand(text: string): string {
  return text
    .trim()
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toUpperCase();
}
