/**
 * Which download URLs the media client may send the Graph bearer token to. The URL comes from the
 * media lookup's answer; were that answer ever to name another host (a compromised or misconfigured
 * WHATSAPP_API_URL, a proxy rewriting bodies), the token would go with the request. In production
 * only https URLs on Meta's media hosts (MEDIA_ALLOWED_HOSTS) are fetched; elsewhere any http(s)
 * URL is, so the local Graph simulator works.
 */
import type { Config } from '../config.js';
import { AppError } from '../errors.js';

export type MediaUrlPolicy = (url: string) => void;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** True for http(s) URLs whose host is this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackUrl(raw: string): boolean {
  const url = parseUrl(raw);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return false;
  return LOOPBACK_HOSTS.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
}

/** `lookaside.fbsbx.com` matches itself; `*.fbsbx.com` matches any subdomain (not the bare domain). */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return allowed.some((entry) => {
    const e = entry.toLowerCase();
    return e.startsWith('*.') ? h.endsWith(e.slice(1)) : h === e;
  });
}

/** Builds the check from the config; it throws MEDIA_REJECTED (the job fails, no retry) on refusal. */
export function mediaUrlPolicy(
  config: Pick<Config, 'NODE_ENV' | 'MEDIA_ALLOWED_HOSTS' | 'ALLOW_LOCAL_GRAPH_SIMULATOR'>,
): MediaUrlPolicy {
  const production = config.NODE_ENV === 'production';
  return (raw) => {
    const url = parseUrl(raw);
    // The reason names scheme and host only: the full URL works as a credential for a few minutes.
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw refused('not an http(s) URL');
    if (!production) return;
    if (config.ALLOW_LOCAL_GRAPH_SIMULATOR && isLoopbackUrl(raw)) return;
    if (url.protocol !== 'https:') throw refused(`${url.protocol}// is not https`);
    if (!hostAllowed(url.hostname, config.MEDIA_ALLOWED_HOSTS))
      throw refused(`host ${url.hostname} is not in MEDIA_ALLOWED_HOSTS`);
  };
}

function refused(reason: string): AppError {
  return new AppError('MEDIA_REJECTED', `download URL refused: ${reason}`);
}

function parseUrl(raw: string): URL | null {
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}
