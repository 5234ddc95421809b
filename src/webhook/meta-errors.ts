/**
 * Meta's error objects (`{ code, title, message, error_data: { details } }`) appear at the top of a
 * change, inside messages (e.g. `unsupported`) and inside failed statuses; all map the same way.
 */
import type { MetaError } from './inbound-event.js';
import { metaErrorSchema } from './item-schemas.js';

/** Maps an `errors` array; absent or non-array → `[]`, non-object elements are skipped. */
export function toMetaErrors(raw: unknown): MetaError[] {
  if (!Array.isArray(raw)) return [];
  const errors: MetaError[] = [];
  for (const item of raw) {
    const parsed = metaErrorSchema.safeParse(item);
    if (!parsed.success) continue;
    const e = parsed.data;
    errors.push({
      code: e.code ?? null,
      title: e.title ?? null,
      message: e.message ?? null,
      details: e.error_data?.details ?? null,
    });
  }
  return errors;
}
