import { expect } from 'vitest';
import { buildCrmDatabase, type CrmFixtureFacts } from '../fixtures/crm/build-crm-db.js';
import {
  adReferral,
  buttonReplyMessage,
  inboundEnvelope,
  listReplyMessage,
  PHONE_NUMBER_ID,
  textMessage,
} from '../fixtures/whatsapp/builders.js';
import { migrateCli } from './migrate-cli.js';
import { withClient } from './reset-db.js';
import { startRoutingRig, type RoutingRig } from './routing-bench.js';
import { TEST_DATABASE_URL } from './test-config.js';

/**
 * The CRM's database (test/fixtures/crm) after the router's migrations and --fix, with both Cloud
 * numbers configured — wsp4 on the main menu, ventas_api on the ads funnel — and the funnel's
 * catalog as the CRM's Automatizaciones pages would leave it. Shared by the flows' tests.
 */
export const VENTAS_PNID = '106540352249999';
export const ADMIN = 'flows-admin';
export const AD_AT = '120210000000000001';

export const q = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  withClient(async (c) => (await c.query<T>(sql, params)).rows);

let clock = 0;
/** WhatsApp times a second apart and never behind the wall clock. */
export const ts = () => (clock = Math.max(clock + 1, Math.ceil(Date.now() / 1000) + 1));

export interface FlowsRig extends FlowsDatabase {
  rig: RoutingRig;
  admin(pathname: string, init?: RequestInit): Promise<Response>;
  post(body: unknown): Promise<void>;
  adClick(from: string, adId: string, opts?: { wamid?: string; clid?: string; text?: string }): Promise<unknown>;
  tap(from: string, id: string, opts?: { wamid?: string; button?: boolean }): Promise<unknown>;
  say(from: string, body: string, opts?: { line?: 'ventas_api' | 'wsp4' }): Promise<unknown>;
  sentTo(phone: string): RoutingRig['sim']['sent'];
  close(): Promise<void>;
}

export interface FlowsDatabase {
  facts: CrmFixtureFacts;
  /** menu_opciones ids of the AT course's funnel. */
  options: { precio: string; modalidad: string; asesor: string; inscribir: string };
  otherCourseOption: string;
}

/** Builds the CRM database, runs --fix, configures both lines and the AT course's funnel. */
export async function prepareFlowsDatabase(): Promise<FlowsDatabase> {
  const facts = await buildCrmDatabase(TEST_DATABASE_URL);
  expect((await migrateCli('--fix')).code).toBe(0);
  await q(
    `INSERT INTO router_lineas (codigo, nombre, tipo, phone_number_id, flujo) VALUES
       ('wsp4', 'WSP4', 'cloud', $1, 'menu'), ('ventas_api', 'Ventas API', 'cloud', $2, 'ads')`,
    [PHONE_NUMBER_ID, VENTAS_PNID],
  );
  const at = facts.ids.cursoAt;
  // The course page (CP) and its options, as the CRM edits them.
  await q(
    `UPDATE cursos SET mensaje_saludo = '¡Hola! 👋 Gracias por tu interés en AT', mensaje_bienvenida = 'Formación de 2 años, 100% online',
            info_precio = 'Cuota: $50.000', info_modalidad = 'Online en vivo', psi_nombre = 'Acompañante Terapéutico (AT)'
      WHERE id = $1`,
    [at],
  );
  const ids = await q<{ id: string; titulo: string }>(
    `INSERT INTO menu_opciones (curso_id, orden, emoji, titulo, subtitulo, tipo, campo_info, respuesta_custom, mostrar_menu_despues, mensaje_derivacion)
     VALUES ($1, 1, '💰', 'Precio', 'Cuotas y formas de pago', 'info', 'info_precio', NULL, true, NULL),
            ($1, 2, '🖥️', 'Modalidad', NULL, 'info', 'info_modalidad', NULL, false, NULL),
            ($1, 3, '💬', 'Hablar con un asesor', NULL, 'derivar', NULL, NULL, true, NULL),
            ($1, 4, '✍️', 'Inscribirme', NULL, 'inscribir', NULL, NULL, true, '¡Genial! Te pasamos con inscripciones')
     RETURNING id, titulo`,
    [at],
  );
  const other = await q<{ id: string }>(
    `INSERT INTO menu_opciones (curso_id, orden, titulo, tipo, campo_info) VALUES ($1, 1, 'Precio PSP', 'info', 'info_precio') RETURNING id`,
    [facts.ids.cursoPsicopedagogia],
  );
  await q(
    `INSERT INTO cursos_cohortes (curso_codigo, nombre, cohorte_anio, cohorte_mes) VALUES
       ('TEA', 'ATF - Curso de Abordaje del TEA - Marzo 2026', 2026, 3),
       ('TEA', 'Curso Abordaje TEA - Marzo 2024', 2024, 3)`,
  );
  const byTitle = (t: string) => ids.find((r) => r.titulo === t)!.id;
  return {
    facts,
    options: {
      precio: byTitle('Precio'),
      modalidad: byTitle('Modalidad'),
      asesor: byTitle('Hablar con un asesor'),
      inscribir: byTitle('Inscribirme'),
    },
    otherCourseOption: other[0]!.id,
  };
}

export async function startFlowsRig(
  env: Record<string, string> = {},
  options: { logLines?: string[] } = {},
): Promise<FlowsRig> {
  const db = await prepareFlowsDatabase();
  const rig = await startRoutingRig(
    { ADMIN_TOKEN: ADMIN, ...env },
    options.logLines ? { logLines: options.logLines } : {},
  );
  const admin = (pathname: string, init: RequestInit = {}) =>
    fetch(rig.router.url + pathname, {
      ...init,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
  const envelope = (m: Parameters<typeof inboundEnvelope>[0], line: 'ventas_api' | 'wsp4' = 'ventas_api') =>
    inboundEnvelope(m, { name: 'Lead', phoneNumberId: line === 'ventas_api' ? VENTAS_PNID : PHONE_NUMBER_ID });
  const post = async (body: unknown) => {
    expect((await rig.router.postWebhook(body)).status).toBe(200);
    await rig.settle();
  };
  return {
    rig,
    ...db,
    admin,
    post,
    async adClick(from, adId, opts = {}) {
      const body = envelope(
        textMessage({
          from,
          body: opts.text ?? 'Hola, quiero más información',
          timestamp: ts(),
          ...(opts.wamid ? { id: opts.wamid } : {}),
          referral: adReferral({ sourceId: adId, ...(opts.clid ? { ctwaClid: opts.clid } : {}) }),
        }),
      );
      await post(body);
      return body;
    },
    async tap(from, id, opts = {}) {
      const m = opts.button
        ? buttonReplyMessage({
            from,
            replyId: id,
            title: id,
            timestamp: ts(),
            ...(opts.wamid ? { id: opts.wamid } : {}),
          })
        : listReplyMessage({ from, rowId: id, title: id, timestamp: ts(), ...(opts.wamid ? { id: opts.wamid } : {}) });
      const body = envelope(m);
      await post(body);
      return body;
    },
    async say(from, text, opts = {}) {
      const body = envelope(textMessage({ from, body: text, timestamp: ts() }), opts.line ?? 'ventas_api');
      await post(body);
      return body;
    },
    sentTo: (phone) => rig.sim.sent.filter((m) => m.to === phone),
    close: () => rig.close(),
  };
}

export const rowIds = (body: Record<string, unknown>): string[] => {
  const interactive = body['interactive'] as
    { action?: { sections?: { rows: { id: string }[] }[]; buttons?: { reply: { id: string } }[] } } | undefined;
  return (
    interactive?.action?.sections?.flatMap((s) => s.rows.map((r) => r.id)) ??
    interactive?.action?.buttons?.map((b) => b.reply.id) ??
    []
  );
};

export const textOf = (body: Record<string, unknown>): string | null =>
  (body['text'] as { body?: string } | undefined)?.body ?? null;
