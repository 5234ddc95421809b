import { readFile } from 'node:fs/promises';
import { Router } from 'express';

/**
 * The page's files, plain HTML, CSS and JavaScript with no build step. Resolved from the repository
 * root, so the same path works from src/ (tsx) and from dist/ (npm start): both sit one level down.
 */
const PAGE_DIR = new URL('../../src/sandbox/page/', import.meta.url);
const FILES: Record<string, { file: string; type: string }> = {
  '/admin/sandbox': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/admin/sandbox/sandbox.js': { file: 'sandbox.js', type: 'text/javascript; charset=utf-8' },
  '/admin/sandbox/sandbox.css': { file: 'sandbox.css', type: 'text/css; charset=utf-8' },
};
// Own files only: no inline script, no third-party origin, never framed.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * GET /admin/sandbox: the page exists only when ADMIN_TOKEN is set. It carries no data and no
 * secret; everything it shows comes from /admin/sandbox/api/*, which needs the token the page asks
 * for (kept in sessionStorage, sent as a Bearer header, never in a URL).
 */
export function sandboxPageRoutes(adminToken: string | undefined): Router {
  const router = Router();
  const cache = new Map<string, Buffer>();
  router.get(Object.keys(FILES), async (req, res, next) => {
    if (!adminToken) {
      next();
      return;
    }
    const entry = FILES[req.path]!;
    let body = cache.get(entry.file);
    if (!body) {
      body = await readFile(new URL(entry.file, PAGE_DIR));
      cache.set(entry.file, body);
    }
    res
      .set({
        'content-type': entry.type,
        'content-security-policy': CSP,
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
      })
      .send(body);
  });
  return router;
}
