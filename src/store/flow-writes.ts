import type { FlowEffects } from '../routing/flow-effects.js';

/**
 * The rows the ads funnel and the autoreplies leave for the CRM's statistics (FLOWS.md §C), as
 * CTEs of the completion statement (routing-writes.ts adds them after its own): they commit with
 * the reply and with marking the event done, or not at all, and every one is guarded by `done`, so
 * a redelivered webhook, a retried attempt or a worker killed mid-statement can never count a tap,
 * an ad execution or an autoreply twice.
 *
 *   - session: one `menu_sesiones` row per (lead, course) under any spelling of the phone. A
 *     returning lead's row is reopened (estado from the decision, §D4); a course chosen after the
 *     direct-entry buttons takes over the lead's course-less row instead of adding a second lead;
 *     `origen` is the first contact's, except that an ad click attributes the row to the ad (so
 *     `origen` and `ctwa_clid` agree, §D8). The lead's other open rows end (`finalizado`) when an
 *     agent closed the conversation.
 *   - tap: one `menu_interacciones` row with its final values, written once (§D9), `+` phone (§D10).
 *   - ad entry: `ejecuciones + 1` on `config_cursos_ctwa` and on the legacy `config_ctwa_anuncios`
 *     the Estadísticas page still reads (created there when missing).
 *   - pin: the 🤖 line (the conversation columns are set by conv_upd, one UPDATE per row).
 *   - autoreply: the `autorespuestas_enviadas` row of a reply that went to the outbox (§D21), telefono
 *     without '+' as the contract (§9) gives it.
 */
export interface FlowWrites extends FlowEffects {
  /** Customer digits (wa_id), for matching every stored spelling of the phone. */
  digits: string | null;
}

export interface AutoreplyWrite {
  line: string;
  band: number;
  text: string;
  /** `ord` of the reply that carries it. */
  ord: number;
  /** The flow's time of the message (enviado_at: what the next cooldown compares with). */
  at: string;
}

/**
 * What writing a session sets on an existing row (its own or the lead's course-less one): the
 * decided estado, the ad's attribution when this entry carries one (an ad click wins `origen`), one
 * more interaction when the decision counts one.
 */
const SESSION_SET = `
    estado = si.s->>'estado',
    origen = CASE WHEN si.s->>'origen' = 'ctwa' OR ms.origen IS NULL THEN si.s->>'origen' ELSE ms.origen END,
    config_ctwa_id = coalesce(nullif(si.s->>'adConfigId', '')::uuid, ms.config_ctwa_id),
    ad_id = coalesce(si.s->>'adId', ms.ad_id),
    ctwa_clid = coalesce(si.s->>'ctwaClid', ms.ctwa_clid),
    referral = coalesce(nullif(si.s->'referral', 'null'::jsonb), ms.referral),
    conversacion_id = si.conv,
    interacciones = coalesce(ms.interacciones, 0) + CASE WHEN (si.s->>'interaction')::boolean THEN 1 ELSE 0 END,
    ultima_actividad = now(), updated_at = now()`;

/** CTEs over `w` (the RoutingWrites document), `done`, `base`, `rep` and `out_msg`. */
export const FLOW_WRITES_CTES = `
fw AS (
  SELECT w.j->'flow' AS f, w.j->'flow'->'session' AS s, (w.j->>'conversationId')::uuid AS conv, w.j->>'phone' AS phone,
         router_telefono_variantes(w.j->'flow'->>'digits') AS variantes
    FROM w WHERE jsonb_typeof(w.j->'flow') = 'object' AND w.j->>'phone' IS NOT NULL AND EXISTS (SELECT 1 FROM done)
),
si AS (
  SELECT fw.*, nullif(fw.s->>'courseId', '')::uuid AS curso FROM fw WHERE jsonb_typeof(fw.s) = 'object'
),
ses_upd AS (
  UPDATE menu_sesiones ms SET${SESSION_SET}
    FROM si
   WHERE ms.telefono = ANY (si.variantes) AND ms.curso_id IS NOT DISTINCT FROM si.curso
  RETURNING ms.id
),
ses_promote AS (
  UPDATE menu_sesiones ms SET
    curso_id = si.curso,${SESSION_SET}
    FROM si
   WHERE si.curso IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ses_upd)
     AND ms.id = (SELECT o.id FROM menu_sesiones o WHERE o.telefono = ANY (si.variantes) AND o.curso_id IS NULL
                   AND o.estado = 'activo' ORDER BY o.created_at DESC LIMIT 1)
  RETURNING ms.id
),
ses_ins AS (
  INSERT INTO menu_sesiones (telefono, curso_id, config_ctwa_id, ad_id, ctwa_clid, referral, conversacion_id, origen,
                             estado, interacciones, mensaje_inicial, ultima_actividad)
  SELECT si.phone, si.curso, nullif(si.s->>'adConfigId', '')::uuid, si.s->>'adId', si.s->>'ctwaClid', nullif(si.s->'referral', 'null'::jsonb),
         si.conv, si.s->>'origen', si.s->>'estado', CASE WHEN (si.s->>'interaction')::boolean THEN 1 ELSE 0 END,
         si.s->>'firstMessage', now()
    FROM si WHERE NOT EXISTS (SELECT 1 FROM ses_upd) AND NOT EXISTS (SELECT 1 FROM ses_promote)
  RETURNING id
),
-- Closed by an agent: the lead's other open rows end. The rows the session write touches are left to it
-- (one statement must not update a row twice).
ses_fin AS (
  UPDATE menu_sesiones ms SET estado = 'finalizado', updated_at = now()
    FROM fw
   WHERE (fw.f->>'finishSessions')::boolean AND ms.telefono = ANY (fw.variantes) AND ms.estado IN ('activo', 'derivado')
     AND NOT EXISTS (SELECT 1 FROM si WHERE ms.curso_id IS NOT DISTINCT FROM si.curso OR ms.curso_id IS NULL)
  RETURNING ms.id
),
tap AS (
  INSERT INTO menu_interacciones (telefono, conversacion_id, curso_id, opcion_id, curso_codigo, curso_nombre,
                                  opcion_titulo, tipo_opcion, config_ctwa_id, ad_id, ctwa_clid, respuesta_enviada, derivado)
  SELECT fw.phone, fw.conv, (t->>'courseId')::uuid, (t->>'optionId')::uuid, t->>'courseCode', t->>'courseName',
         t->>'optionTitle', t->>'optionType', nullif(t->>'adConfigId', '')::uuid, t->>'adId', t->>'ctwaClid',
         (t->>'answered')::boolean, (t->>'derived')::boolean
    FROM fw, LATERAL (SELECT fw.f->'tap' AS t) x WHERE jsonb_typeof(t) = 'object'
  RETURNING id
),
ad_count AS (
  UPDATE config_cursos_ctwa a SET ejecuciones = coalesce(a.ejecuciones, 0) + 1
    FROM fw WHERE jsonb_typeof(fw.f->'adEntry') = 'object' AND a.id = (fw.f->'adEntry'->>'configId')::uuid
  RETURNING a.id
),
ad_legacy AS (
  UPDATE config_ctwa_anuncios a SET ejecuciones = coalesce(a.ejecuciones, 0) + 1
    FROM fw WHERE jsonb_typeof(fw.f->'adEntry') = 'object' AND a.ad_id = fw.f->'adEntry'->>'adId'
  RETURNING a.id
),
ad_legacy_new AS (
  INSERT INTO config_ctwa_anuncios (ad_id, nombre, activo, ejecuciones)
  SELECT fw.f->'adEntry'->>'adId', fw.f->'adEntry'->>'name', true, 1
    FROM fw WHERE jsonb_typeof(fw.f->'adEntry') = 'object' AND NOT EXISTS (SELECT 1 FROM ad_legacy)
     AND NOT EXISTS (SELECT 1 FROM config_ctwa_anuncios a WHERE a.ad_id = fw.f->'adEntry'->>'adId')
  -- Two leads of one new ad at once: the second finds the first's row through the unique key, not a failure.
  ON CONFLICT DO NOTHING
  RETURNING id
),
pin_line AS (
  INSERT INTO mensajes (conversacion_id, mensaje, tipo, direccion, remitente_tipo, remitente_nombre, eliminado, metadata, "timestamp")
  SELECT fw.conv, fw.f->'pin'->>'systemLine', 'text', 'entrante', 'sistema', w.j->>'botName', false,
         jsonb_build_object('origen', 'psi-router'), base.ts
    FROM fw, w, base WHERE nullif(fw.f->'pin'->>'systemLine', '') IS NOT NULL
  RETURNING mensaje, "timestamp"
),
auto_log AS (
  INSERT INTO autorespuestas_enviadas (telefono, linea, franja, mensaje, enviado_at, conversacion_id, mensaje_id)
  -- telefono as psi-automations writes it, the raw WhatsApp 'from' without '+' (contract §9), so its own
  -- cooldown check still sees the router's rows during a cut-over.
  SELECT ltrim(w.j->>'phone', '+'), a->>'line', (a->>'band')::int, a->>'text', (a->>'at')::timestamptz,
         (w.j->>'conversationId')::uuid, (SELECT out_msg.id FROM out_msg WHERE out_msg.ord = (a->>'ord')::int)
    FROM w, LATERAL (SELECT w.j->'autoreply' AS a) x
   WHERE jsonb_typeof(a) = 'object' AND EXISTS (SELECT 1 FROM done)
     AND EXISTS (SELECT 1 FROM rep WHERE rep.ord = (a->>'ord')::int AND rep.estado = 'pendiente')
  RETURNING id
)`;
