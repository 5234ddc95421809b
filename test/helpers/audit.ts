import type { GraphSimulator } from '../../src/simulator/graph-simulator.js';
import { withClient } from './reset-db.js';

export interface Audit {
  acked: number;
  lost: number;
  storedTwice: number;
  unanswered: number;
  answeredTwice: number;
  outOfOrderReplies: number;
  overlappingProcessing: number;
  duplicateContacts: number;
  duplicateConversations: number;
  sentTwiceAtSimulator: number;
  processors: number;
}

/**
 * Counts, for every acknowledged wamid, the stored rows and the replies, and checks order and
 * exclusion from the database's own trace: the whole verdict of a load or fault run.
 */
export async function audit(acked: string[], sim: GraphSimulator): Promise<Audit> {
  return withClient(async (c) => {
    const stored = await c.query<{ wamid: string; n: number }>(
      `SELECT whatsapp_message_id AS wamid, count(*)::int AS n FROM mensajes WHERE whatsapp_message_id = ANY($1) GROUP BY 1`,
      [acked],
    );
    const storedMap = new Map(stored.rows.map((r) => [r.wamid, r.n]));
    const replies = await c.query<{ wamid: string; n: number }>(
      `SELECT metadata->>'en_respuesta_a' AS wamid, count(*)::int AS n FROM mensajes
        WHERE direccion = 'saliente' AND metadata->>'en_respuesta_a' = ANY($1) GROUP BY 1`,
      [acked],
    );
    const replyMap = new Map(replies.rows.map((r) => [r.wamid, r.n]));
    // Replies of one conversation must be created in the order of the messages they answer.
    const order = await c.query<{ n: number }>(`
      WITH r AS (
        SELECT m.conversacion_id, o.id AS outbox_id, i."timestamp" AS answered_ts, i.created_at AS answered_created
          FROM mensajes m
          JOIN router_outbox o ON o.mensaje_id = m.id
          JOIN mensajes i ON i.whatsapp_message_id = m.metadata->>'en_respuesta_a'
         WHERE m.direccion = 'saliente'
      )
      SELECT count(*)::int AS n FROM (
        SELECT answered_ts, lag(answered_ts) OVER (PARTITION BY conversacion_id ORDER BY outbox_id) AS prev_ts FROM r
      ) t WHERE prev_ts > answered_ts`);
    const overlap = await c.query<{ n: number }>(`
      SELECT count(*)::int AS n FROM (
        SELECT iniciado_at, lag(procesado_at) OVER (PARTITION BY conv_key ORDER BY iniciado_at) AS prev_end
          FROM router_eventos WHERE tipo = 'message' AND estado = 'hecho'
      ) t WHERE prev_end > iniciado_at`);
    const dupContacts = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT telefono FROM contactos WHERE telefono IS NOT NULL GROUP BY 1 HAVING count(*) > 1) t`,
    );
    const dupConvs = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT contacto_id, linea_origen FROM conversaciones GROUP BY 1, 2 HAVING count(*) > 1) t`,
    );
    const processors = await c.query<{ n: number }>(
      `SELECT count(DISTINCT procesado_por)::int AS n FROM router_eventos WHERE tipo = 'message'`,
    );
    // The simulator answers each accepted send with a new wamid, so a reply sent twice shows up as an
    // outbox row whose recorded wamid is one of several sends with the same body to the same number.
    const recorded = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM router_outbox WHERE canal = 'whatsapp' AND estado = 'enviado'`,
    );
    return {
      acked: acked.length,
      lost: acked.filter((w) => !storedMap.has(w)).length,
      storedTwice: [...storedMap.values()].filter((n) => n > 1).length,
      unanswered: acked.filter((w) => !replyMap.has(w)).length,
      answeredTwice: [...replyMap.values()].filter((n) => n > 1).length,
      outOfOrderReplies: order.rows[0]!.n,
      overlappingProcessing: overlap.rows[0]!.n,
      duplicateContacts: dupContacts.rows[0]!.n,
      duplicateConversations: dupConvs.rows[0]!.n,
      sentTwiceAtSimulator: Math.max(0, sim.stats().sent - recorded.rows[0]!.n),
      processors: processors.rows[0]!.n,
    };
  });
}
