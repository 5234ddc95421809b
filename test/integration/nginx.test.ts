import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../../src/webhook/verify-signature.js';
import { bodyOf, inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { freePort, startRouter, type RunningRouter } from '../helpers/start-router.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { TEST_APP_SECRET, testConfig } from '../helpers/test-config.js';

const SHIPPED = new URL('../../nginx/psi-router.conf', import.meta.url);

/** The shipped vhost with only ports, certificate paths and the upstream port swapped for the test's. */
function testVhost(dir: string, http: number, https: number, upstream: number): string {
  let conf = readFileSync(SHIPPED, 'utf8');
  const swap = (from: RegExp, to: string) => {
    if (!from.test(conf)) throw new Error(`the shipped vhost no longer contains ${from}`);
    conf = conf.replace(from, to);
  };
  swap(/listen 80;/, `listen 127.0.0.1:${http};`);
  swap(/listen \[::\]:80;/, '');
  swap(/listen 443 ssl http2;/, `listen 127.0.0.1:${https} ssl http2;`);
  swap(/listen \[::\]:443 ssl http2;/, '');
  swap(/ssl_certificate {5}\S+;/, `ssl_certificate     ${dir}/cert.pem;`);
  swap(/ssl_certificate_key \S+;/, `ssl_certificate_key ${dir}/key.pem;`);
  swap(/root \/var\/www\/certbot;/, `root ${dir}/acme;`);
  conf = conf.replaceAll('127.0.0.1:3002', `127.0.0.1:${upstream}`);
  return conf;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  port: number,
  opts: {
    method?: string;
    path: string;
    body?: Buffer;
    headers?: Record<string, string>;
    from?: string;
    tls?: boolean;
  },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const make = opts.tls === false ? httpRequest : request;
    const req = make(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: {
          host: 'router.example.com',
          ...opts.headers,
          ...(opts.body ? { 'content-length': String(opts.body.length) } : {}),
        },
        localAddress: opts.from ?? '127.0.0.1',
        rejectUnauthorized: false, // the test's self-signed certificate
        servername: 'router.example.com',
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * The suite needs Debian's nginx and openssl on PATH. `.ci/run` installs them and runs with CI=true,
 * where the suite always runs (a missing nginx then fails it, loudly). On a developer's machine
 * without them it is skipped, and says why, so that `npm test` passes on a fresh machine.
 */
const missingTools = [
  ['nginx', '-v'],
  ['openssl', 'version'],
].flatMap(([tool, arg]) => (spawnSync(tool!, [arg!], { stdio: 'ignore' }).error !== undefined ? [tool!] : []));
const skipReason =
  missingTools.length > 0 && process.env['CI'] !== 'true'
    ? `${missingTools.join(' and ')} not found on PATH (CI=true runs it; .ci/run installs them)`
    : null;
if (skipReason) console.warn(`nginx suite skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)(
  `the shipped Nginx vhost in front of the router${skipReason ? ` — skipped: ${skipReason}` : ''}`,
  () => {
    let dir: string;
    let nginx: ChildProcess;
    let router: RunningRouter;
    let https: number;
    let http: number;

    beforeAll(async () => {
      if (missingTools.length > 0)
        throw new Error(
          `CI=true, but ${missingTools.join(' and ')} is not installed: .ci/run installs them (nginx-light, openssl)`,
        );
      await resetDatabase();
      router = await startRouter(testConfig({ ADMIN_TOKEN: 'nginx-admin-token' }));
      dir = mkdtempSync(path.join(tmpdir(), 'psi-nginx-'));
      for (const sub of ['acme', 'body', 'proxy', 'fastcgi', 'uwsgi', 'scgi', 'logs']) mkdirSync(path.join(dir, sub));
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=router.example.com',
          '-keyout',
          `${dir}/key.pem`,
          '-out',
          `${dir}/cert.pem`,
        ],
        { stdio: 'ignore' },
      );
      http = await freePort();
      https = await freePort();
      const routerPort = Number(new URL(router.url).port);
      writeFileSync(path.join(dir, 'vhost.conf'), testVhost(dir, http, https, routerPort));
      writeFileSync(
        path.join(dir, 'nginx.conf'),
        `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log ${dir}/logs/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/vhost.conf;
}
`,
      );
      nginx = spawn('nginx', ['-c', `${dir}/nginx.conf`, '-p', `${dir}/`], { stdio: 'ignore' });
      // Ready when it answers on its HTTP port (retrying the connection, no fixed sleep).
      const deadline = Date.now() + 10_000;
      for (;;) {
        const status = await call(http, { path: '/', tls: false })
          .then((r) => r.status)
          .catch(() => 0);
        if (status === 301) break;
        if (Date.now() > deadline)
          throw new Error(`nginx did not start: ${readFileSync(`${dir}/logs/error.log`, 'utf8')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    afterAll(async () => {
      nginx?.kill('SIGQUIT');
      await router?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('when nginx -t checks the shipped vhost, then it passes', () => {
      const check = spawnSync('nginx', ['-t', '-c', `${dir}/nginx.conf`, '-p', `${dir}/`], { encoding: 'utf8' });
      expect(check.status).toBe(0);
      expect(check.stderr).toContain('test is successful');
    });

    it('when plain HTTP is used, then it redirects to HTTPS', async () => {
      const res = await call(http, { path: '/webhook', tls: false });
      expect(res.status).toBe(301);
      expect(res.headers['location']).toBe('https://router.example.com/webhook');
    });

    it('when a signed webhook with accents and emoji goes through Nginx, then the signature still matches and it is stored', async () => {
      const text = 'Atención: ¿mañana hay clases? 🎓';
      const raw = bodyOf(inboundEnvelope(textMessage({ body: text })));
      const res = await call(https, {
        method: 'POST',
        path: '/webhook',
        body: raw,
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(raw, TEST_APP_SECRET) },
      });
      expect(res.status).toBe(200);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/); // Nginx's $request_id reached the router
      await router.idle();
      const stored = await withClient((c) => c.query(`SELECT mensaje FROM mensajes WHERE direccion = 'entrante'`));
      expect(stored.rows).toEqual([{ mensaje: text }]);
    });

    it('when /admin or /metrics is called from an address that is not allowed, then Nginx refuses it', async () => {
      expect((await call(https, { path: '/admin/stats', from: '127.0.0.2' })).status).toBe(403);
      expect((await call(https, { path: '/metrics', from: '127.0.0.2' })).status).toBe(403);
      // From an allowed address the request reaches the router, which still wants its token.
      expect((await call(https, { path: '/admin/stats' })).status).toBe(401);
      expect(
        (await call(https, { path: '/admin/stats', headers: { authorization: 'Bearer nginx-admin-token' } })).status,
      ).toBe(200);
    });

    it('when a body is larger than client_max_body_size, then Nginx answers 413 before the router sees it', async () => {
      const res = await call(https, {
        method: 'POST',
        path: '/webhook',
        body: Buffer.alloc(7 * 1024 * 1024, 'a'),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(413);
    });

    it('when a media link is asked from anywhere, then Nginx passes it to the router, which checks the signature', async () => {
      const res = await call(https, { path: '/media/2025/01/abc/image.jpg?exp=1&sig=forged', from: '127.0.0.2' });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'MEDIA_LINK_INVALID' } });
    });

    it('when an unknown path is asked, then Nginx answers 404 itself', async () => {
      expect((await call(https, { path: '/wp-login.php' })).status).toBe(404);
    });
  },
);
