import type { LeadSession } from '../routing/ads/ads-types.js';
import type { Queryable } from './db.js';

export interface FlowFacts {
  /** The lead's `menu_sesiones` rows (any spelling of the phone). */
  sessions: LeadSession[];
  /** Newest autoreply to this contact on this line (ms since epoch). */
  lastAutoreplyAt: number | null;
  /** Newest message an agent wrote in this conversation (ms since epoch). */
  lastAgentAt: number | null;
}

/**
 * What the ads funnel and the autoreplies read besides the conversation, in one round trip, under
 * the conversation's lease (so no other worker writes these rows for this contact meanwhile). The
 * agent guard reads the conversation's own `agente` rows (the CRM writes them without a phone, which
 * is why the old guard never matched, §D5); the cooldown is keyed by (contact, line) under every
 * spelling of the phone (the old service logged raw digits, psi-router logs `+…`).
 */
export async function loadFlowFacts(
  db: Queryable,
  args: { conversationId: string; digits: string | null; line: string; sessions: boolean; autoreply: boolean },
): Promise<FlowFacts> {
  const res = await db.query<{ sessions: unknown; last_auto: number | null; last_agent: number | null }>(
    `WITH v AS (SELECT CASE WHEN $2::text IS NULL THEN ARRAY[]::text[] ELSE router_telefono_variantes($2) END AS variantes)
     SELECT
       CASE WHEN $4 THEN coalesce((SELECT json_agg(json_build_object('id', s.id::text, 'courseId', s.curso_id::text,
                  'estado', s.estado, 'origen', s.origen, 'adConfigId', s.config_ctwa_id::text, 'adId', s.ad_id,
                  'ctwaClid', s.ctwa_clid) ORDER BY s.created_at)
                FROM menu_sesiones s, v WHERE s.telefono = ANY (v.variantes)), '[]'::json) ELSE '[]'::json END AS sessions,
       CASE WHEN $5 THEN extract(epoch FROM (SELECT max(a.enviado_at) FROM autorespuestas_enviadas a, v
                           WHERE a.linea = $3 AND a.telefono = ANY (v.variantes))) * 1000 END::float8 AS last_auto,
       CASE WHEN $5 THEN extract(epoch FROM (SELECT m."timestamp" FROM mensajes m
                           WHERE m.conversacion_id = $1::uuid AND m.remitente_tipo = 'agente'
                           ORDER BY m."timestamp" DESC LIMIT 1)) * 1000 END::float8 AS last_agent`,
    [args.conversationId, args.digits, args.line, args.sessions, args.autoreply],
  );
  const row = res.rows[0];
  const sessions = row?.sessions ?? [];
  return {
    sessions: (typeof sessions === 'string' ? JSON.parse(sessions) : sessions) as LeadSession[],
    lastAutoreplyAt: row?.last_auto == null ? null : Number(row.last_auto),
    lastAgentAt: row?.last_agent == null ? null : Number(row.last_agent),
  };
}
