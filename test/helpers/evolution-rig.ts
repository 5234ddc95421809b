import { spawnRouter, type RouterProcess } from './spawn-router.js';
import { withClient } from './reset-db.js';
import { TEST_APP_SECRET, TEST_DATABASE_URL } from './test-config.js';
import { startEvolutionSimulator, type EvolutionSimulator } from '../../src/simulator/evolution/evolution-simulator.js';

export const ADMIN = 'evolution-admin-token';
export const EVO_KEY = 'evo-global-apikey';
export const INBOX_SECRET = 'evolution-inbox-secret-0123456789';

/** The business's Evolution lines, each with its instance and webhook secret. */
export const LINES = {
  administracion: { instancia: 'psi-admin', secret: 'secret-administracion-0001' },
  alumnos: { instancia: 'psi-alumnos', secret: 'secret-alumnos-000000002' },
  comunidad: { instancia: 'psi-comunidad', secret: 'secret-comunidad-0000003' },
  ventas: { instancia: 'psi-ventas', secret: 'secret-ventas-0000000004' },
} as const;
export type LineCode = keyof typeof LINES;

export const instanceLine = (instance: string): LineCode =>
  (Object.keys(LINES) as LineCode[]).find((c) => LINES[c].instancia === instance)!;

/** A router process with the Evolution simulator as its EVOLUTION_API_URL, acks posted back to it. */
export class EvolutionRig {
  router: RouterProcess | null = null;
  sim!: EvolutionSimulator;
  /** Every process's JSON log lines, across restarts. */
  private readonly processes: RouterProcess[] = [];

  constructor(private readonly env: Record<string, string> = {}) {}

  async start(): Promise<void> {
    this.sim = await startEvolutionSimulator({
      apiKey: EVO_KEY,
      webhook: {
        url: (instance) => `${this.router?.url}/webhook/evolution/${instanceLine(instance)}`,
        secret: (instance) => LINES[instanceLine(instance)].secret,
      },
    });
    await this.spawn();
  }

  async spawn(): Promise<void> {
    this.router = await spawnRouter({
      DATABASE_URL: TEST_DATABASE_URL,
      WHATSAPP_APP_SECRET: TEST_APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: 'x',
      ADMIN_TOKEN: ADMIN,
      // Set so /ready speaks only of what these tests change (no Cloud API call is ever made).
      WHATSAPP_ACCESS_TOKEN: 'cloud-token-not-used-by-these-tests',
      EVOLUTION_API_URL: this.sim.url,
      EVOLUTION_API_KEY: EVO_KEY,
      EVOLUTION_SEND_RATE_PER_SECOND: '50',
      LEASE_MS: '1500',
      SWEEP_INTERVAL_MS: '200',
      OUTBOX_POLL_MS: '100',
      // A send cut by kill -9 is taken over after two claim leases: keep them short here.
      OUTBOX_CLAIM_MS: '2000',
      EVOLUTION_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'debug',
      INBOX_WEBHOOK_SECRET: INBOX_SECRET,
      // Area URLs set by a test are read at the next message.
      CATALOG_TTL_MS: '0',
      ...this.env,
    });
    this.processes.push(this.router);
  }

  logLines(): string[] {
    return this.processes.flatMap((p) => p.logs.map((l) => JSON.stringify(l)));
  }

  async restart(kill9 = false): Promise<void> {
    if (kill9) await this.router?.kill9();
    else await this.router?.stop();
    await this.spawn();
  }

  async stop(): Promise<void> {
    await this.router?.stop();
    await this.sim?.close();
  }

  get url(): string {
    return this.router!.url;
  }

  admin(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
  }

  async configureLines(): Promise<void> {
    for (const [codigo, l] of Object.entries(LINES)) {
      const res = await this.admin(`/admin/lines/${codigo}`, {
        method: 'PUT',
        body: JSON.stringify({
          nombre: codigo,
          tipo: 'evolution',
          flujo: 'inbox',
          instancia: l.instancia,
          webhookSecret: l.secret,
        }),
      });
      if (res.status !== 201 && res.status !== 200)
        throw new Error(`PUT line ${codigo}: ${res.status} ${await res.text()}`);
    }
  }

  /** Resolves once nothing is pending in the journal or the outbox (a DB condition, polled). */
  async settle(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { n } = await q1<{ n: number }>(
        `SELECT (SELECT count(*) FROM router_eventos WHERE estado = 'pendiente')
              + (SELECT count(*) FROM router_outbox WHERE estado IN ('pendiente', 'enviando'))::int AS n`,
      );
      if (Number(n) === 0) return;
      if (Date.now() > deadline) throw new Error(`still ${n} pending after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export async function q<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  return withClient(async (c) => (await c.query(sql, params)).rows as T[]);
}

export async function q1<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T> {
  return (await q<T>(sql, params))[0]!;
}
