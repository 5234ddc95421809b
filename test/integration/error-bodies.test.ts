import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundEnvelope, textMessage } from '../fixtures/whatsapp/builders.js';
import { resetDatabase, withClient } from '../helpers/reset-db.js';
import { readJson, startRouter, type RunningRouter } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

const ADMIN_TOKEN = 'error-bodies-admin-token-2c7e0a9f';
// What a database error quotes: an index name and a row's values.
const DB_DETAIL = 'duplicate key value violates unique constraint "mensajes_wamid_unico_x" (valor 5491100009999)';

describe('5xx bodies', () => {
  let router: RunningRouter;
  const lines: string[] = [];
  const sql = (text: string) => withClient((c) => c.query(text));
  const failing = (table: string) =>
    sql(`CREATE OR REPLACE FUNCTION falla() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${DB_DETAIL}'; END $$;
         CREATE TRIGGER falla BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION falla();`);
  const requestFailedLine = (requestId: string) =>
    lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['msg'] === 'request failed' && l['requestId'] === requestId);

  beforeAll(async () => {
    await resetDatabase();
    router = await startRouter(testConfig({ ADMIN_TOKEN, LOG_LEVEL: 'info' }), {
      logLines: lines,
      sweeper: false,
      sender: false,
    });
  });
  afterAll(async () => {
    await sql(
      'DROP TRIGGER IF EXISTS falla ON router_eventos; DROP TRIGGER IF EXISTS falla ON router_lineas; DROP FUNCTION IF EXISTS falla()',
    );
    await router.stop();
  });

  it('when storing a webhook fails with a database error, then the 500 body is generic with the request id, and the detail is only in the log', async () => {
    await failing('router_eventos');
    try {
      const res = await router.postWebhook(inboundEnvelope(textMessage({ body: 'hola' })));
      expect(res.status).toBe(500);
      const text = await res.text();
      const body = JSON.parse(text) as { error: { code: string; message: string }; requestId: string };
      expect(body).toEqual({
        error: { code: 'DB_ERROR', message: 'internal error; the log has the details under this requestId' },
        requestId: res.headers.get('x-request-id'),
      });
      expect(text).not.toContain('mensajes_wamid_unico_x');
      expect(text).not.toContain('valor');
      expect(requestFailedLine(body.requestId)).toMatchObject({
        level: 'error',
        code: 'DB_ERROR',
        err: { message: expect.stringContaining('mensajes_wamid_unico_x') },
      });
    } finally {
      await sql('DROP TRIGGER falla ON router_eventos');
    }
  });

  it('when an admin call fails with a database error, then its 500 body is just as generic', async () => {
    await failing('router_lineas');
    try {
      const res = await fetch(`${router.url}/admin/lines/wsp9`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ nombre: 'WSP9', tipo: 'cloud', phoneNumberId: '106540352242999', flujo: 'menu' }),
      });
      expect(res.status).toBe(500);
      const body = await readJson(res);
      expect(body.error.message).toBe('internal error; the log has the details under this requestId');
      expect(JSON.stringify(body)).not.toContain('mensajes_wamid_unico_x');
      const requestId = res.headers.get('x-request-id')!;
      expect((body as unknown as { requestId: string }).requestId).toBe(requestId);
      expect(requestFailedLine(requestId)).toMatchObject({
        err: { message: expect.stringContaining('mensajes_wamid_unico_x') },
      });
    } finally {
      await sql('DROP TRIGGER falla ON router_lineas');
    }
  });

  it('when a request is refused for a reason of its own (4xx), then its message still says what was wrong', async () => {
    const res = await fetch(`${router.url}/admin/lines/NO VALE`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect((await readJson(res)).error.message).toMatch(/must be a CRM line code/);
  });
});
