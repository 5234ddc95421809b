import type { EvolutionMediaSource } from '../evolution/media-source.js';
import type { Queryable } from './db.js';

/** Keeps what Evolution gave for each message's file; a redelivery changes nothing. */
export async function saveEvolutionMedia(
  db: Queryable,
  media: ReadonlyMap<string, EvolutionMediaSource>,
): Promise<void> {
  const rows = [...media].map(([wamid, m]) => ({ wamid, url: m.url, base64: m.base64 }));
  await db.query(
    `INSERT INTO router_evolution_media (wamid, url, base64)
     SELECT x.wamid, x.url, x.base64 FROM jsonb_to_recordset($1::jsonb) AS x(wamid text, url text, base64 text)
     ON CONFLICT (wamid) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

export async function loadEvolutionMedia(db: Queryable, wamid: string): Promise<EvolutionMediaSource | null> {
  const res = await db.query<EvolutionMediaSource>(`SELECT url, base64 FROM router_evolution_media WHERE wamid = $1`, [
    wamid,
  ]);
  return res.rows[0] ?? null;
}
