/**
 * Numbers a statement's parameters as they are added, so a statement assembled from several
 * pieces never relies on `$n` positions defined elsewhere: each piece asks for the placeholder
 * of the value it needs and gets it back.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  /** Adds a value and returns its placeholder (`$1`, `$2`, …). */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
