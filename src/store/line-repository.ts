import type { Queryable } from './db.js';

export interface LineRow {
  codigo: string;
  nombre: string;
  tipo: 'cloud' | 'evolution';
  phone_number_id: string | null;
  flujo: 'menu' | 'ads' | 'inbox';
  ajustes: Record<string, unknown>;
  activo: boolean;
  updated_at: string;
}

export type LineUpsert = Omit<LineRow, 'updated_at'>;

/**
 * Creates or replaces a line. A phone_number_id already used by another line is a conflict the
 * caller reports (23505 on router_lineas_phone_number_id_key), never a silent move.
 */
export async function upsertLine(db: Queryable, line: LineUpsert): Promise<{ row: LineRow; created: boolean }> {
  const res = await db.query<LineRow & { created: boolean }>(
    `INSERT INTO router_lineas AS l (codigo, nombre, tipo, phone_number_id, flujo, ajustes, activo)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
     ON CONFLICT (codigo) DO UPDATE SET nombre = excluded.nombre, tipo = excluded.tipo,
       phone_number_id = excluded.phone_number_id, flujo = excluded.flujo, ajustes = excluded.ajustes,
       activo = excluded.activo, updated_at = now()
     RETURNING l.codigo, l.nombre, l.tipo, l.phone_number_id, l.flujo, l.ajustes, l.activo, l.updated_at::text, (xmax = 0) AS created`,
    [line.codigo, line.nombre, line.tipo, line.phone_number_id, line.flujo, JSON.stringify(line.ajustes), line.activo],
  );
  const { created, ...row } = res.rows[0]!;
  return { row, created };
}

export async function listLines(db: Queryable): Promise<LineRow[]> {
  const res = await db.query<LineRow>(
    `SELECT codigo, nombre, tipo, phone_number_id, flujo, ajustes, activo, updated_at::text FROM router_lineas ORDER BY codigo`,
  );
  return res.rows;
}
