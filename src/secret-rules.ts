/**
 * What production accepts as a secret or token (config.ts applies it with NODE_ENV=production).
 * The `.env.example` placeholders and one-letter values used while trying the router out must never
 * reach a real deployment: an app secret of `x` lets anyone sign webhooks, an admin token of `a`
 * opens /admin to a guess.
 */

/** Every key whose value is a credential. WHATSAPP_APP_SECRET is a list: each entry is checked. */
export const SECRET_KEYS = [
  'WHATSAPP_APP_SECRET',
  'WHATSAPP_VERIFY_TOKEN',
  'WHATSAPP_ACCESS_TOKEN',
  'INBOX_WEBHOOK_SECRET',
  'MEDIA_URL_SECRET',
  'SUPABASE_SERVICE_ROLE_KEY',
  'ADMIN_TOKEN',
] as const;

export type SecretKey = (typeof SECRET_KEYS)[number];

/** Meta's app secrets are 32 hex characters; nothing weaker is accepted for any credential. */
export const MIN_SECRET_LENGTH = 32;

// The shapes of values people copy from examples: `.env.example`'s change-me-…, "your-token-here",
// "replace_with_…", "<secret>", "placeholder", "example". Matched anywhere, because a padded
// placeholder is still a placeholder.
const PLACEHOLDER =
  /change[-_ .]?me|replace[-_ .]?(me|with|this)|your[-_ .]|placeholder|example|dummy|^<.*>$|^\$\{.*\}$/i;

/** A value of few distinct characters (`aaaa…`, `1212…`) is long but guessable. */
const MIN_DISTINCT_CHARACTERS = 8;

/**
 * Why a production secret is refused, or null when it is acceptable. The reason never repeats the
 * value: a real secret that is merely short must not end up in a log.
 */
export function secretProblem(value: string): string | null {
  if (PLACEHOLDER.test(value))
    return 'is a placeholder (such as the change-me-… values of .env.example); set the real secret';
  if (value.length < MIN_SECRET_LENGTH)
    return `must be at least ${MIN_SECRET_LENGTH} characters when NODE_ENV=production`;
  if (new Set(value).size < MIN_DISTINCT_CHARACTERS)
    return `is too repetitive (fewer than ${MIN_DISTINCT_CHARACTERS} distinct characters); use a random value (openssl rand -hex 32)`;
  return null;
}
