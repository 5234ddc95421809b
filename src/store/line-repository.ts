import type { Queryable } from './db.js';

export interface LineRow {
  codigo: string;
  nombre: string;
  tipo: 'cloud' | 'evolution';
  phone_number_id: string | null;
  flujo: 'menu' | 'ads' | 'inbox';
  ajustes: Record<string, unknown>;
  activo: boolean;
  /** Evolution lines: the instance name; null on Cloud lines. */
  instancia: string | null;
  /** Evolution lines: sends per second from this number (null = the default spacing). */
  envio_por_segundo: number | null;
  /** Whether a webhook secret / own apikey is set: the values themselves are never listed. */
  tiene_webhook_secreto: boolean;
  tiene_apikey: boolean;
  /** Last `connection.update` state the instance reported. */
  conexion_estado: string | null;
  updated_at: string;
}

export interface LineUpsert {
  codigo: string;
  nombre: string;
  tipo: 'cloud' | 'evolution';
  phone_number_id: string | null;
  flujo: string;
  ajustes: Record<string, unknown>;
  activo: boolean;
  instancia: string | null;
  /** null keeps the stored secret (a PUT need not repeat it); '' is refused by the route. */
  webhook_secreto: string | null;
  evolution_apikey: string | null;
  envio_por_segundo: number | null;
}

/** Columns a listing shows: never webhook_secreto nor evolution_apikey. */
const LISTED = `l.codigo, l.nombre, l.tipo, CASE WHEN l.tipo = 'evolution' THEN NULL ELSE l.phone_number_id END AS phone_number_id,
  l.flujo, l.ajustes, l.activo, l.instancia, l.envio_por_segundo,
  l.webhook_secreto IS NOT NULL AS tiene_webhook_secreto, l.evolution_apikey IS NOT NULL AS tiene_apikey,
  l.conexion_estado, l.updated_at::text`;

/**
 * Creates or replaces a line. A phone_number_id or instance already used by another line is a
 * conflict the caller reports (23505), never a silent move.
 */
export async function upsertLine(db: Queryable, line: LineUpsert): Promise<{ row: LineRow; created: boolean }> {
  const res = await db.query<LineRow & { created: boolean }>(
    `INSERT INTO router_lineas AS l (codigo, nombre, tipo, phone_number_id, flujo, ajustes, activo, instancia,
       webhook_secreto, evolution_apikey, envio_por_segundo)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11)
     ON CONFLICT (codigo) DO UPDATE SET nombre = excluded.nombre, tipo = excluded.tipo,
       phone_number_id = excluded.phone_number_id, flujo = excluded.flujo, ajustes = excluded.ajustes,
       activo = excluded.activo, instancia = excluded.instancia,
       webhook_secreto = coalesce(excluded.webhook_secreto, CASE WHEN excluded.tipo = 'evolution' THEN l.webhook_secreto END),
       evolution_apikey = coalesce(excluded.evolution_apikey, CASE WHEN excluded.tipo = 'evolution' THEN l.evolution_apikey END),
       envio_por_segundo = excluded.envio_por_segundo, updated_at = now()
     RETURNING ${LISTED}, (xmax = 0) AS created`,
    [
      line.codigo,
      line.nombre,
      line.tipo,
      line.phone_number_id,
      line.flujo,
      JSON.stringify(line.ajustes),
      line.activo,
      line.instancia,
      line.webhook_secreto,
      line.evolution_apikey,
      line.envio_por_segundo,
    ],
  );
  const { created, ...row } = res.rows[0]!;
  return { row, created };
}

export async function listLines(db: Queryable): Promise<LineRow[]> {
  const res = await db.query<LineRow>(`SELECT ${LISTED} FROM router_lineas l ORDER BY l.codigo`);
  return res.rows;
}
