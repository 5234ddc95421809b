import type { Queryable } from './db.js';

export interface RouterStats {
  conversations: Record<string, number>;
  locks: { count: number; oldest: { conv_key: string; owner: string; held_s: number }[] };
  journal: Record<string, number>;
  outbox: Record<string, number>;
}

/** What /admin/stats shows from the database, in one round trip. */
export async function routerStats(db: Queryable): Promise<RouterStats> {
  const res = await db.query<{
    conversations: Record<string, number> | null;
    locks: RouterStats['locks'];
    journal: Record<string, number> | null;
    outbox: Record<string, number> | null;
  }>(`
    SELECT
      (SELECT json_object_agg(estado, n) FROM (SELECT estado, count(*)::int AS n FROM conversaciones GROUP BY estado) t) AS conversations,
      json_build_object(
        'count', (SELECT count(*)::int FROM router_locks WHERE hasta > now()),
        'oldest', coalesce((SELECT json_agg(l) FROM (
            SELECT conv_key, owner, extract(epoch FROM now() - tomado_at)::int AS held_s
              FROM router_locks WHERE hasta > now() ORDER BY tomado_at LIMIT 20) l), '[]'::json)) AS locks,
      (SELECT json_object_agg(estado, n) FROM (SELECT estado, count(*)::int AS n FROM router_eventos GROUP BY estado) t) AS journal,
      (SELECT json_object_agg(canal || ':' || estado, n) FROM (
          SELECT canal, estado, count(*)::int AS n FROM router_outbox WHERE estado IN ('pendiente', 'enviando', 'fallido') GROUP BY 1, 2) t) AS outbox`);
  const row = res.rows[0];
  return {
    conversations: row?.conversations ?? {},
    locks: row?.locks ?? { count: 0, oldest: [] },
    journal: row?.journal ?? {},
    outbox: row?.outbox ?? {},
  };
}

/** Backlog gauges for /metrics and /ready. */
export interface BacklogCounts {
  whatsapp: number;
  inbox: number;
  journalPending: number;
  deadLetters: number;
  /** Media downloads not finished yet (waiting or in progress). */
  mediaBacklog: number;
  oldestOutboxS: number;
}

export async function backlogCounts(db: Queryable): Promise<BacklogCounts> {
  const res = await db.query<{
    whatsapp: number;
    inbox: number;
    journal_pending: number;
    dead: number;
    media: number;
    oldest: number | null;
  }>(`
    SELECT
      (SELECT count(*)::int FROM router_outbox WHERE canal = 'whatsapp' AND estado IN ('pendiente', 'enviando')) AS whatsapp,
      (SELECT count(*)::int FROM router_outbox WHERE canal = 'inbox' AND estado IN ('pendiente', 'enviando')) AS inbox,
      (SELECT count(*)::int FROM router_eventos WHERE estado = 'pendiente') AS journal_pending,
      (SELECT count(*)::int FROM router_eventos WHERE estado = 'muerto') AS dead,
      (SELECT count(*)::int FROM router_media_jobs WHERE estado IN ('pendiente', 'descargando')) AS media,
      (SELECT extract(epoch FROM now() - min(created_at))::int FROM router_outbox WHERE estado IN ('pendiente', 'enviando')) AS oldest`);
  const r = res.rows[0];
  return {
    whatsapp: r?.whatsapp ?? 0,
    inbox: r?.inbox ?? 0,
    journalPending: r?.journal_pending ?? 0,
    deadLetters: r?.dead ?? 0,
    mediaBacklog: r?.media ?? 0,
    oldestOutboxS: r?.oldest ?? 0,
  };
}

/** Puts a conversation back at the main menu (the next message gets the menu). Null when unknown. */
export async function resetConversation(db: Queryable, id: string, mainMenuId: string): Promise<{ id: string } | null> {
  const res = await db.query<{ id: string }>(
    // Back to the line's own inbox (area = the line code, as a new conversation starts).
    `UPDATE conversaciones SET estado = 'activa', router_estado = 'menu_principal', menu_actual = $2, area = linea_origen, updated_at = now()
      WHERE id = $1::uuid RETURNING id`,
    [id, mainMenuId],
  );
  return res.rows[0] ?? null;
}

export async function closeConversation(db: Queryable, id: string): Promise<{ id: string } | null> {
  const res = await db.query<{ id: string }>(
    `UPDATE conversaciones SET estado = 'cerrada', updated_at = now() WHERE id = $1::uuid RETURNING id`,
    [id],
  );
  return res.rows[0] ?? null;
}
