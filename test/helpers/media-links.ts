/** Helpers for tests of the router's /media/<message id>/<name> links. */
import type { Queryable } from '../../src/store/db.js';

/** RFC 3986 percent-encoding of one path segment (encodeURIComponent leaves !'()* as they are). */
export const segment = (name: string) =>
  encodeURIComponent(name).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);

/** The name the CRM shows for a document (CRM-CONTRACT §3, CH:967-968). */
export const crmName = (mediaUrl: string) => decodeURIComponent(mediaUrl).split('/').pop();

/**
 * Watches — does not replace — a router's own database handle: every query still runs against the
 * real database. Counts the looks the `/media/<message id>/<name>` route takes at one message's job,
 * so a test can know that a request is waiting for the download instead of having been answered.
 */
export function watchLinkLooks(db: Queryable, messageId: string) {
  const original = db.query;
  let looks = 0;
  const waiters: { times: number; resolve: () => void }[] = [];
  db.query = function watched(sql: string, params?: readonly unknown[]) {
    if (params?.[0] === messageId && sql.includes('FROM router_media_jobs')) {
      looks += 1;
      for (const w of waiters.splice(0)) {
        if (looks >= w.times) w.resolve();
        else waiters.push(w);
      }
    }
    return original.call(db, sql, params);
  } as Queryable['query'];
  return {
    get looks() {
      return looks;
    },
    /** Resolves once the route has looked `times` times. */
    reached: (times: number) =>
      new Promise<void>((resolve) => (looks >= times ? resolve() : waiters.push({ times, resolve }))),
    restore: () => {
      db.query = original;
    },
  };
}
