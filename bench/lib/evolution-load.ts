import { randomBytes } from 'node:crypto';
import { flatBody, rawUpsert } from '../../src/simulator/evolution/payloads.js';
import { startEvolutionSimulator, type EvolutionSimulator } from '../../src/simulator/evolution/evolution-simulator.js';
import { withBenchClient } from './bench-db.js';
import { buildRequest } from './http-load.js';

/** The business's Evolution lines in the benchmark (inbox flow), each with its instance and secret. */
export const BENCH_EVOLUTION_LINES = [
  { code: 'administracion', instance: 'bench-admin', secret: 'bench-evo-secret-administracion-01' },
  { code: 'alumnos', instance: 'bench-alumnos', secret: 'bench-evo-secret-alumnos-000000002' },
  { code: 'comunidad', instance: 'bench-comunidad', secret: 'bench-evo-secret-comunidad-0000003' },
  { code: 'ventas', instance: 'bench-ventas', secret: 'bench-evo-secret-ventas-0000000004' },
] as const;
export const BENCH_EVOLUTION_KEY = 'bench-evolution-apikey-5d2c8e1f0a7b4936';

/** Every Nth customer of a ramp step writes to an Evolution line instead of the Cloud number (0: none). */
export const EVOLUTION_EVERY = Number(process.env.BENCH_EVOLUTION_EVERY ?? 4);

/** The Evolution API simulator of a run, acks posted back to the router; the lines configured in the bench DB. */
export async function startEvolutionOutside(routerPort: number): Promise<EvolutionSimulator> {
  const byInstance = new Map<string, (typeof BENCH_EVOLUTION_LINES)[number]>(
    BENCH_EVOLUTION_LINES.map((l) => [l.instance, l]),
  );
  const sim = await startEvolutionSimulator({
    apiKey: BENCH_EVOLUTION_KEY,
    webhook: {
      url: (instance) => `http://127.0.0.1:${routerPort}/webhook/evolution/${byInstance.get(instance)?.code ?? 'none'}`,
      secret: (instance) => byInstance.get(instance)?.secret ?? '',
    },
  });
  await withBenchClient(async (c) => {
    for (const l of BENCH_EVOLUTION_LINES) {
      await c.query(
        `INSERT INTO router_lineas (codigo, nombre, tipo, phone_number_id, flujo, instancia, webhook_secreto)
         VALUES ($1, $1, 'evolution', 'evo:' || $1, 'inbox', $2, $3)
         ON CONFLICT (codigo) DO UPDATE SET instancia = excluded.instancia, webhook_secreto = excluded.webhook_secreto`,
        [l.code, l.instance, l.secret],
      );
    }
  });
  return sim;
}

/**
 * Step `step` of an Evolution customer: Evolution's raw shape and n8n's flat one alternate (both
 * reach the business today), as a request to the line's webhook with its secret.
 */
export function evolutionStep(customer: number, from: string, step: number, text: string, ts: number) {
  const line = BENCH_EVOLUTION_LINES[customer % BENCH_EVOLUTION_LINES.length]!;
  const id = `3EB0${randomBytes(10).toString('hex').toUpperCase()}`;
  const body =
    step % 2 === 0
      ? rawUpsert({ instance: line.instance, from, id, text, timestamp: ts })
      : flatBody({ telefono: from, messageId: id, mensaje: text, timestamp: ts });
  const bytes = buildRequest(`/webhook/evolution/${line.code}`, Buffer.from(JSON.stringify(body), 'utf8'), {
    'content-type': 'application/json',
    authorization: `Bearer ${line.secret}`,
  });
  return { bytes, wamid: `evo:${line.instance}:${id}` };
}

/**
 * The verdict on a step's Evolution traffic: acknowledged messages never stored (lost), stored more
 * than once, and conversations processed out of WhatsApp order or two at a time.
 */
export async function evolutionAudit(acked: string[]): Promise<{ lost: number; doubled: number; outOfOrder: number }> {
  return withBenchClient(async (c) => {
    const stored = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM mensajes WHERE whatsapp_message_id = ANY($1) GROUP BY whatsapp_message_id`,
      [acked],
    );
    // Out of order: a message started after a later-written one of its conversation although it was
    // already in the journal then (messages still in flight to the router cannot be waited for).
    const order = await c.query<{ n: number }>(`
      SELECT count(*)::int AS n FROM router_eventos a JOIN router_eventos b
          ON b.conv_key = a.conv_key AND b.id <> a.id AND b.tipo = 'message' AND b.estado = 'hecho'
       WHERE a.tipo = 'message' AND a.estado = 'hecho'
         AND a.wa_ts < b.wa_ts AND b.iniciado_at < a.iniciado_at AND a.recibido_at < b.iniciado_at`);
    const overlap = await c.query<{ n: number }>(`
      SELECT count(*)::int AS n FROM (
        SELECT iniciado_at, lag(procesado_at) OVER (PARTITION BY conv_key ORDER BY iniciado_at) AS prev_end
          FROM router_eventos WHERE tipo = 'message' AND estado = 'hecho') t
       WHERE prev_end > iniciado_at`);
    return {
      lost: acked.length - stored.rows.length,
      doubled: stored.rows.filter((r) => r.n > 1).length,
      outOfOrder: order.rows[0]!.n + overlap.rows[0]!.n,
    };
  });
}
