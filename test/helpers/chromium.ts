import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** Debian's chromium, when installed (.ci/run installs it). */
export const CHROMIUM = ['chromium', 'chromium-browser'].find(
  (bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).error === undefined,
);

export interface Page {
  navigate(url: string): Promise<void>;
  /** Evaluates an expression in the page (promises awaited); returns its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Resolves once `expression` is truthy in the page; fails with `what` after timeoutMs. */
  waitFor(expression: string, what: string, timeoutMs?: number): Promise<void>;
  /** A real mouse click in the middle of the element matching `selector` (the first; -1: the last). */
  click(selector: string, index?: number): Promise<void>;
  /** Focuses `selector` and types `text` as keyboard input. */
  type(selector: string, text: string): Promise<void>;
  screenshot(file: string): Promise<void>;
}

export interface Browser {
  newPage(width?: number, height?: number): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Headless Chromium driven over the Chrome DevTools Protocol on a pipe (--remote-debugging-pipe:
 * fd 3 in, fd 4 out, NUL-separated JSON), so neither a WebSocket client nor a browser download is
 * needed: Debian's chromium and node's standard library are enough.
 */
export async function launchChromium(): Promise<Browser> {
  if (!CHROMIUM)
    throw new Error('CI=true, but chromium is not installed: .ci/run installs it (apt-get install chromium)');
  const profile = mkdtempSync(path.join(tmpdir(), 'psi-chromium-'));
  const proc: ChildProcess = spawn(
    CHROMIUM,
    [
      '--headless=new',
      // Root in a container: Chromium's sandbox needs user namespaces it may not have.
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--no-default-browser-check',
      '--remote-debugging-pipe',
      `--user-data-dir=${profile}`,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const toBrowser = proc.stdio[3] as Writable;
  const fromBrowser = proc.stdio[4] as Readable;
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();
  const listeners: { method: string; sessionId?: string; fn: (params: unknown) => void }[] = [];
  let buffer = '';
  fromBrowser.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let end: number;
    while ((end = buffer.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffer.slice(0, end)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
        method?: string;
        params?: unknown;
        sessionId?: string;
      };
      buffer = buffer.slice(end + 1);
      if (message.id !== undefined) {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(`${waiter.method}: ${message.error.message}`));
        else waiter?.resolve(message.result);
      } else if (message.method) {
        for (const l of listeners.slice())
          if (l.method === message.method && l.sessionId === message.sessionId) l.fn(message.params);
      }
    }
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  void exited.then(() => {
    for (const w of pending.values()) w.reject(new Error(`chromium exited: ${stderr}`));
    pending.clear();
  });
  const send = <T>(method: string, params: object = {}, sessionId?: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  const once = (method: string, sessionId: string) =>
    new Promise<unknown>((resolve) => {
      const l = {
        method,
        sessionId,
        fn: (p: unknown) => {
          listeners.splice(listeners.indexOf(l), 1);
          resolve(p);
        },
      };
      listeners.push(l);
    });

  return {
    async newPage(width = 1280, height = 800) {
      const { targetId } = await send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
      await send('Page.enable', {}, sessionId);
      await send('Runtime.enable', {}, sessionId);
      await send(
        'Emulation.setDeviceMetricsOverride',
        { width, height, deviceScaleFactor: 1, mobile: false },
        sessionId,
      );
      const evaluate = async <T>(expression: string): Promise<T> => {
        const r = await send<{
          result: { value?: T };
          exceptionDetails?: { text: string; exception?: { description?: string } };
        }>('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId);
        if (r.exceptionDetails)
          throw new Error(`page error: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
        return r.result.value as T;
      };
      const center = async (selector: string, index: number) => {
        const box = await evaluate<{ x: number; y: number } | null>(
          `(() => { const e = [...document.querySelectorAll(${JSON.stringify(selector)})].at(${index}); if (!e) return null;
             e.scrollIntoView({ block: 'center' }); const r = e.getBoundingClientRect();
             return { x: r.left + r.width / 2, y: r.top + r.height / 2 }; })()`,
        );
        if (!box) throw new Error(`no element ${selector}`);
        return box;
      };
      return {
        async navigate(url) {
          const loaded = once('Page.loadEventFired', sessionId);
          await send('Page.navigate', { url }, sessionId);
          await loaded;
        },
        evaluate,
        async waitFor(expression, what, timeoutMs = 15_000) {
          const until = Date.now() + timeoutMs;
          // The page changes on its own (it polls the router): look again on each animation frame.
          for (;;) {
            if (await evaluate<boolean>(`Boolean(${expression})`)) return;
            if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
            await evaluate('new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50)))');
          }
        },
        async click(selector, index = 0) {
          const { x, y } = await center(selector, index);
          for (const type of ['mousePressed', 'mouseReleased'])
            await send('Input.dispatchMouseEvent', { type, x, y, button: 'left', clickCount: 1 }, sessionId);
        },
        async type(selector, text) {
          await evaluate(`document.querySelector(${JSON.stringify(selector)}).focus()`);
          await send('Input.insertText', { text }, sessionId);
        },
        async screenshot(file) {
          const { data } = await send<{ data: string }>('Page.captureScreenshot', { format: 'png' }, sessionId);
          writeFileSync(file, Buffer.from(data, 'base64'));
        },
      };
    },
    async close() {
      await send('Browser.close').catch(() => undefined);
      const killer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
