import type { Queryable } from './db.js';

/** What the Evolution ingress and sender need of a line, secrets included (never listed or logged). */
export interface EvolutionLine {
  codigo: string;
  instancia: string;
  webhook_secreto: string | null;
  evolution_apikey: string | null;
  envio_por_segundo: number | null;
  activo: boolean;
}

const COLUMNS = `codigo, instancia, webhook_secreto, evolution_apikey, envio_por_segundo, activo`;

/** The Evolution line by its code (`/webhook/evolution/:line`) or by its instance name (payload). */
export async function findEvolutionLine(
  db: Queryable,
  by: { code: string } | { instance: string },
): Promise<EvolutionLine | null> {
  const res = await db.query<EvolutionLine>(
    `SELECT ${COLUMNS} FROM router_lineas
      WHERE tipo = 'evolution' AND instancia IS NOT NULL AND ${'code' in by ? 'codigo' : 'instancia'} = $1`,
    ['code' in by ? by.code : by.instance],
  );
  return res.rows[0] ?? null;
}

/** Every Evolution line (the sender's per-line configuration). */
export async function listEvolutionLines(db: Queryable): Promise<EvolutionLine[]> {
  const res = await db.query<EvolutionLine>(
    `SELECT ${COLUMNS} FROM router_lineas WHERE tipo = 'evolution' AND instancia IS NOT NULL`,
  );
  return res.rows;
}

/** The instance's last `connection.update` state (open, connecting, close). */
export async function recordConnectionState(db: Queryable, code: string, state: string): Promise<void> {
  await db.query(`UPDATE router_lineas SET conexion_estado = left($2, 40), conexion_at = now() WHERE codigo = $1`, [
    code,
    state,
  ]);
}

/** Every active Evolution line with its last reported connection state, for /metrics. */
export async function evolutionConnections(db: Queryable): Promise<{ line: string; state: string | null }[]> {
  const res = await db.query<{ line: string; state: string | null }>(
    `SELECT codigo AS line, conexion_estado AS state FROM router_lineas WHERE tipo = 'evolution' AND activo ORDER BY codigo`,
  );
  return res.rows;
}

/** Evolution lines whose instance last said it is not connected, for /ready. */
export async function disconnectedEvolutionLines(db: Queryable): Promise<string[]> {
  const res = await db.query<{ codigo: string }>(
    `SELECT codigo FROM router_lineas
      WHERE tipo = 'evolution' AND activo AND conexion_estado IS NOT NULL AND conexion_estado <> 'open' ORDER BY codigo`,
  );
  return res.rows.map((r) => r.codigo);
}
