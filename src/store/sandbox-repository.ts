import type { Queryable } from './db.js';

export interface SandboxChatItem {
  /** Outbox row id (router replies) or message id. */
  id: string;
  from: 'customer' | 'router' | 'system' | 'agent';
  at: string;
  text: string | null;
  /** Router replies: the Graph API payload (text, interactive list or buttons…), as WhatsApp shows it. */
  payload: Record<string, unknown> | null;
  /** Router replies: outbox state (pendiente, enviando, enviado, fallido…); wamid once captured. */
  estado: string | null;
  wamid: string | null;
}

export interface SandboxChat {
  conversation: {
    id: string;
    estado: string | null;
    router_estado: string | null;
    menu_actual: string | null;
    menu_nombre: string | null;
    area: string | null;
    linea_origen: string | null;
    ticket_id: string | null;
    sandbox: boolean;
  } | null;
  ticket: {
    ticket_id: string;
    area: string | null;
    estado: string | null;
    subetiqueta: string | null;
    motivo: string | null;
    created_at: string;
  } | null;
  messages: SandboxChatItem[];
  notifications: {
    id: string;
    event: string | null;
    area: string | null;
    ticket: string | null;
    estado: string;
    error: string | null;
    at: string;
  }[];
}

/**
 * Everything the sandbox page shows for one sandbox customer on one line, in one round trip: the
 * conversation's state, its latest ticket, the chat (customer messages and system lines from
 * `mensajes`, router replies from the outbox with their payload) and the inbox notifications.
 */
export async function sandboxChat(db: Queryable, args: { phone: string; line: string }): Promise<SandboxChat> {
  const res = await db.query<{ chat: SandboxChat }>(
    `WITH cv AS (
       SELECT c.* FROM conversaciones c
        WHERE c.telefono = '+' || $1 AND c.linea_origen = $2
        ORDER BY c.created_at DESC LIMIT 1
     ),
     items AS (
       SELECT m.id::text AS id,
              CASE m.remitente_tipo WHEN 'contacto' THEN 'customer' WHEN 'sistema' THEN 'system' ELSE 'agent' END AS "from",
              m."timestamp" AS at, coalesce(m.created_at, m."timestamp") AS seq, m.mensaje AS text, NULL::jsonb AS payload,
              NULL::text AS estado, NULL::text AS wamid
         FROM mensajes m, cv
        WHERE m.conversacion_id = cv.id AND NOT (m.direccion = 'saliente' AND m.remitente_tipo = 'bot')
       UNION ALL
       SELECT o.id::text, 'router', coalesce(m."timestamp", o.created_at), coalesce(m.created_at, o.created_at), m.mensaje,
              o.payload, o.estado, o.wamid
         FROM router_outbox o JOIN cv ON o.conversacion_id = cv.id
         LEFT JOIN mensajes m ON m.id = o.mensaje_id
        WHERE o.canal = 'whatsapp'
     ),
     -- Shown in the order the rows were written (then by time, for rows of one statement): WhatsApp
     -- times have whole seconds, so a tap made in the second its menu was stored would sort before it.
     recent AS (SELECT * FROM items ORDER BY seq DESC, at DESC, id DESC LIMIT 200)
     SELECT json_build_object(
       'conversation', (SELECT json_build_object(
           'id', cv.id, 'estado', cv.estado, 'router_estado', cv.router_estado, 'menu_actual', cv.menu_actual,
           'menu_nombre', (SELECT mc.nombre FROM router_menu_config mc WHERE mc.id::text = cv.menu_actual OR mc.tipo_menu = cv.menu_actual ORDER BY mc.id::text = cv.menu_actual DESC LIMIT 1),
           'area', cv.area, 'linea_origen', cv.linea_origen, 'ticket_id', cv.ticket_id,
           'sandbox', coalesce((cv.metadata->>'sandbox')::boolean, false)) FROM cv),
       'ticket', (SELECT json_build_object('ticket_id', t.ticket_id, 'area', t.area, 'estado', t.estado,
           'subetiqueta', t.subetiqueta, 'motivo', t.motivo, 'created_at', t.created_at)
           FROM tickets t, cv WHERE t.conversacion_id = cv.id ORDER BY t.created_at DESC LIMIT 1),
       'messages', coalesce((SELECT json_agg(r ORDER BY r.seq, r.at, r.id) FROM recent r), '[]'::json),
       'notifications', coalesce((SELECT json_agg(json_build_object(
           'id', o.id::text, 'event', o.payload->>'event', 'area', o.payload->'area'->>'name',
           'ticket', o.payload->>'ticket', 'estado', o.estado, 'error', o.error, 'at', o.created_at) ORDER BY o.id)
           FROM router_outbox o, cv WHERE o.conversacion_id = cv.id AND o.canal = 'inbox'), '[]'::json)
     ) AS chat`,
    [args.phone, args.line],
  );
  const chat = res.rows[0]!.chat;
  return typeof chat === 'string' ? (JSON.parse(chat) as SandboxChat) : chat;
}
