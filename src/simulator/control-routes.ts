/**
 * /__sim/* — the same controls as the in-process API, over HTTP, for use by hand (curl) and by the
 * benchmark driving a simulator in another process. No auth: the simulator binds to loopback.
 */
import { z } from 'zod';
import { parseJson, readBody, sendJson } from './http-io.js';
import { metaFailure } from './meta-error-bodies.js';
import type { RouteContext, RouteTable } from './route-table.js';
import type { GraphSimulator, ScriptedFailure } from './types.js';

const failureSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('meta_error'),
    code: z.number().int(),
    // Optional over HTTP: Meta's status for the code (e.g. 429 for 130429) is filled in.
    httpStatus: z.number().int().min(400).max(599).optional(),
    title: z.string().optional(),
    message: z.string().optional(),
    subcode: z.number().int().optional(),
  }),
  z.object({
    kind: z.literal('http'),
    status: z.union([z.literal(500), z.literal(502), z.literal(503)]),
    body: z.string().optional(),
  }),
  z.object({ kind: z.literal('timeout') }),
  z.object({ kind: z.literal('reset') }),
]);
const scriptSchema = z.union([z.array(failureSchema), failureSchema.transform((f) => [f])]);
const waId = z.string().regex(/^\d{6,20}$/, 'must be the customer wa_id (digits)');
const inboundSchema = z.object({
  message: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('ad_click'),
      from: waId,
      adId: z.string().min(1),
      ctwaClid: z.string().optional(),
      text: z.string().optional(),
      sourceUrl: z.string().optional(),
    }),
    z.object({ kind: z.literal('text'), from: waId, text: z.string().min(1) }),
    z.object({
      kind: z.literal('tap'),
      from: waId,
      id: z.string().min(1),
      title: z.string().optional(),
      button: z.boolean().optional(),
    }),
  ]),
  phoneNumberId: z.string().optional(),
  name: z.string().optional(),
});
const downSchema = z.object({ down: z.boolean(), how: z.enum(['503', 'reset']).optional() });
const statusSchema = z.object({
  wamid: z.string().min(1),
  status: z.enum(['sent', 'delivered', 'read', 'failed', 'played']),
  to: z.string().optional(),
  phoneNumberId: z.string().optional(),
  errors: z
    .array(
      z.object({
        code: z.number().int(),
        title: z.string().optional(),
        message: z.string().optional(),
        details: z.string().optional(),
      }),
    )
    .optional(),
});

/** Larger than any media type's limit (documents: 100 MB), so oversized files can be simulated. */
const MAX_MEDIA_BYTES = 128 * 1024 * 1024;

export function registerControlRoutes(routes: RouteTable, sim: () => GraphSimulator): void {
  routes
    .add({ method: 'GET', path: '/__sim/sent', handler: ({ res }) => sendJson(res, 200, sim().sent) })
    .add({ method: 'GET', path: '/__sim/rejected', handler: ({ res }) => sendJson(res, 200, sim().rejected) })
    .add({ method: 'GET', path: '/__sim/stats', handler: ({ res }) => sendJson(res, 200, sim().stats()) })
    .add({
      method: 'POST',
      path: '/__sim/reset',
      handler: ({ res }) => {
        sim().reset();
        sendJson(res, 200, { ok: true });
      },
    })
    .add({
      method: 'POST',
      path: '/__sim/script',
      handler: withBody(scriptSchema, (failures, { res }) => {
        sim().script(...failures.map(toScriptedFailure));
        sendJson(res, 200, { ok: true, pending: sim().stats().scriptPending });
      }),
    })
    .add({
      method: 'POST',
      path: '/__sim/down',
      handler: withBody(downSchema, (body, { res }) => {
        sim().setDown(body.down, body.how);
        sendJson(res, 200, { ok: true, down: sim().stats().down });
      }),
    })
    // Media by hand: `curl --data-binary @photo.jpg -H 'content-type: image/jpeg' …/__sim/media?filename=photo.jpg`
    // → { id, sha256, sha256Hex, size }; put id and sha256 in a signed webhook.
    .add({
      method: 'POST',
      path: '/__sim/media',
      handler: async ({ req, res, query }) => {
        const bytes = await readBody(req, MAX_MEDIA_BYTES);
        const mimeType = req.headers['content-type'] ?? 'application/octet-stream';
        const filename = query.get('filename');
        const id = query.get('id');
        sendJson(
          res,
          200,
          sim().addMedia({ bytes, mimeType, ...(filename ? { filename } : {}), ...(id ? { id } : {}) }),
        );
      },
    })
    // Expires every link handed out so far; `?next=N` makes the next N links expire before use instead.
    .add({
      method: 'POST',
      path: '/__sim/media/expire',
      handler: ({ res, query }) => {
        const next = Number(query.get('next') ?? 0);
        if (Number.isInteger(next) && next > 0) {
          sim().expireNextMediaUrls(next);
          sendJson(res, 200, { expireNext: next });
          return;
        }
        sendJson(res, 200, { expired: sim().expireMediaUrls() });
      },
    })
    .add({
      method: 'DELETE',
      path: '/__sim/media/:id',
      handler: ({ res, params }) => sendJson(res, 200, { deleted: sim().deleteMedia(params['id'] ?? '') }),
    })
    // The flows by hand: an ad click, a web lead's text or a tap, posted signed to the router.
    .add({
      method: 'POST',
      path: '/__sim/inbound',
      handler: withBody(inboundSchema, async (body, { res }) => {
        try {
          const { message, ...opts } = body;
          const sent = await sim().postInbound(message, {
            ...(opts.phoneNumberId !== undefined ? { phoneNumberId: opts.phoneNumberId } : {}),
            ...(opts.name !== undefined ? { name: opts.name } : {}),
          });
          sendJson(res, sent.ok ? 200 : 502, sent);
        } catch (err) {
          sendJson(res, 409, { error: (err as Error).message });
        }
      }),
    })
    .add({
      method: 'POST',
      path: '/__sim/status',
      handler: withBody(statusSchema, async (body, { res }) => {
        const { wamid, status, ...opts } = body;
        try {
          sendJson(res, 200, await sim().postStatus(wamid, status, opts));
        } catch (err) {
          sendJson(res, 409, { error: (err as Error).message });
        }
      }),
    });
}

function toScriptedFailure(f: z.output<typeof failureSchema>): ScriptedFailure {
  if (f.kind !== 'meta_error') return f;
  return metaFailure(f.code, {
    ...(f.httpStatus !== undefined ? { httpStatus: f.httpStatus } : {}),
    ...(f.title !== undefined ? { title: f.title } : {}),
    ...(f.message !== undefined ? { message: f.message } : {}),
    ...(f.subcode !== undefined ? { subcode: f.subcode } : {}),
  });
}

function withBody<S extends z.ZodType>(
  schema: S,
  handle: (body: z.output<S>, ctx: RouteContext) => void | Promise<void>,
): (ctx: RouteContext) => Promise<void> {
  return async (ctx) => {
    const parsed = schema.safeParse(parseJson(await readBody(ctx.req)));
    if (!parsed.success) {
      sendJson(ctx.res, 400, {
        error: 'invalid control request',
        issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
      });
      return;
    }
    await handle(parsed.data, ctx);
  };
}
