import { describe, expect, it } from 'vitest';
import { buildCrmDatabase, type CrmFixtureFacts } from '../fixtures/crm/build-crm-db.js';
import { withClient } from '../helpers/reset-db.js';
import { TEST_DATABASE_URL } from '../helpers/test-config.js';

/** The production-shaped CRM database the migrate --check/--fix tests start from. */
describe('CRM database fixture', () => {
  it('when built twice in a row, then the second build starts from zero and yields the same facts', async () => {
    const first = await buildCrmDatabase(TEST_DATABASE_URL);
    await withClient((c) => c.query(`INSERT INTO contactos (telefono) VALUES ('+5491100000000')`));
    const second = await buildCrmDatabase(TEST_DATABASE_URL);
    expect(second.messageCount).toBe(first.messageCount);
    expect(second.unread).toEqual(first.unread);
    await withClient(async (c) => {
      expect(
        (await c.query(`SELECT count(*)::int AS n FROM contactos WHERE telefono = '+5491100000000'`)).rows[0].n,
      ).toBe(0);
      expect((await c.query(`SELECT count(*)::int AS n FROM auth.users`)).rows[0].n).toBe(2);
    });
  });

  it('when a message is inserted, then the CRM trigger counts entrante rows (system lines too) and marcar_como_leidos resets them', async () => {
    const facts = await buildCrmDatabase(TEST_DATABASE_URL);
    const conv = facts.ids.convMartinNueva;
    await withClient(async (c) => {
      const unread = async () =>
        (await c.query(`SELECT mensajes_no_leidos AS n FROM conversaciones WHERE id = $1`, [conv])).rows[0].n as number;
      const before = await unread();
      expect(before).toBe(facts.unread[conv]);
      expect(before).toBe(3); // two customer messages and one 🤖 line
      await c.query(
        `INSERT INTO mensajes (conversacion_id, mensaje, direccion, remitente_tipo) VALUES ($1, 'hola', 'entrante', 'contacto')`,
        [conv],
      );
      await c.query(
        `INSERT INTO mensajes (conversacion_id, mensaje, direccion, remitente_tipo) VALUES ($1, '🤖 WSP4 → ADMIN → x', 'entrante', 'sistema')`,
        [conv],
      );
      await c.query(
        `INSERT INTO mensajes (conversacion_id, mensaje, direccion, remitente_tipo) VALUES ($1, 'respuesta', 'saliente', 'agente')`,
        [conv],
      );
      expect(await unread()).toBe(before + 2);
      await c.query(`SELECT marcar_como_leidos($1)`, [conv]);
      expect(await unread()).toBe(0);
      // A new row gets eliminado = false (CH:640 hides NULL) and the 'text' type by default.
      const row = (await c.query(`SELECT eliminado, tipo FROM mensajes WHERE mensaje = 'hola'`)).rows[0];
      expect(row).toEqual({ eliminado: false, tipo: 'text' });
    });
  });

  it('when the chat view is read, then it carries reactions and the quoted message', async () => {
    const facts = await buildCrmDatabase(TEST_DATABASE_URL);
    await withClient(async (c) => {
      const copy = (await c.query(`SELECT reacciones FROM vw_mensajes_completos WHERE id = $1`, [facts.ids.wamidA2]))
        .rows[0];
      const reactions = copy.reacciones as { emoji: string; usuario_id: string | null }[];
      expect(reactions.map((r) => [r.emoji, r.usuario_id])).toEqual([
        ['👍', null],
        ['❤️', facts.ids.agenteAna],
      ]);
      const quoting = (
        await c.query(
          `SELECT mensaje_citado_contenido, mensaje_citado_remitente FROM vw_mensajes_completos WHERE id = $1`,
          [facts.quote.messageId],
        )
      ).rows[0];
      expect(quoting).toEqual({
        mensaje_citado_contenido: 'Ya te reseteo la contraseña, fijate en spam',
        mensaje_citado_remitente: 'Bruno Díaz',
      });
      const none = (
        await c.query(`SELECT reacciones FROM vw_mensajes_completos WHERE id = $1`, [facts.quote.messageId])
      ).rows[0];
      expect(none.reacciones).toEqual([]);
    });
  });

  it('when built, then the production dirt the facts name is really there', async () => {
    const facts: CrmFixtureFacts = await buildCrmDatabase(TEST_DATABASE_URL);
    await withClient(async (c) => {
      for (const group of facts.duplicateWamids) {
        const rows = (
          await c.query(
            `SELECT id, conversacion_id, whatsapp_message_id FROM mensajes WHERE id = ANY($1) ORDER BY "timestamp", created_at, id`,
            [group.copies],
          )
        ).rows;
        expect(rows.map((r) => r.id)).toEqual(group.copies);
        expect(new Set(rows.map((r) => r.whatsapp_message_id)).size).toBe(1);
        expect(rows.every((r) => r.conversacion_id === group.conversationId)).toBe(true);
      }
      expect(facts.emptyWamidMessageIds.length).toBeGreaterThanOrEqual(3);
      for (const r of facts.reactionsOnCopies) {
        expect(
          (await c.query(`SELECT mensaje_id FROM mensaje_reacciones WHERE id = $1`, [r.id])).rows[0].mensaje_id,
        ).toBe(r.messageId);
      }
      for (const g of facts.duplicateConversations) {
        const rows = (
          await c.query(`SELECT linea_origen, mensajes_no_leidos FROM conversaciones WHERE id = ANY($1)`, [
            [g.survivorId, ...g.loserIds],
          ])
        ).rows;
        expect(rows).toHaveLength(1 + g.loserIds.length);
        expect(rows.every((r) => r.linea_origen === g.linea && r.mensajes_no_leidos > 0)).toBe(true);
      }
      // Martín's two conversations each have messages, a ticket and a derivación.
      for (const id of [facts.ids.convMartinVieja, facts.ids.convMartinNueva]) {
        const n = (
          await c.query(
            `SELECT (SELECT count(*) FROM mensajes WHERE conversacion_id = $1)::int AS m,
                  (SELECT count(*) FROM tickets WHERE conversacion_id = $1)::int AS t,
                  (SELECT count(*) FROM derivaciones WHERE conversacion_id = $1)::int AS d`,
            [id],
          )
        ).rows[0];
        expect(n.m).toBeGreaterThan(0);
        expect(n.t).toBe(1);
        expect(n.d).toBe(1);
      }
      const phones = (
        await c.query(`SELECT id, telefono FROM contactos WHERE id = ANY($1)`, [
          facts.duplicateContacts.flatMap((g) => [g.survivorId, ...g.loserIds]),
        ])
      ).rows;
      expect(phones.map((r) => r.telefono).sort()).toEqual([
        '+541144440003',
        '+541155550001',
        '+5491144440003',
        '+5491155550001',
      ]);
      const nuevo = (
        await c.query(
          `SELECT estado, area, linea_origen, inbox_fijo, origen, prioridad, (SELECT count(*)::int FROM mensajes WHERE conversacion_id = v.id) AS n
           FROM conversaciones v WHERE id = $1`,
          [facts.newChatConversationId],
        )
      ).rows[0];
      expect(nuevo).toEqual({
        estado: 'nueva',
        area: 'administracion',
        linea_origen: 'administracion',
        inbox_fijo: 'administracion',
        origen: 'crm',
        prioridad: 'media',
        n: 0,
      });
      const derived = (
        await c.query(`SELECT estado, router_estado, area FROM conversaciones WHERE id = $1`, [
          facts.derived.conversationId,
        ])
      ).rows[0];
      expect(derived).toEqual({ estado: 'derivada', router_estado: 'derivado', area: 'alumnos' });
      expect(Date.now() - facts.derived.lastCustomerMessageAt.getTime()).toBeLessThan(24 * 3600_000);
      const closed = (
        await c.query(`SELECT estado, router_estado FROM conversaciones WHERE id = $1`, [facts.closedConversationId])
      ).rows[0];
      expect(closed).toEqual({ estado: 'cerrada', router_estado: 'derivado' });
      const off = (
        await c.query(`SELECT desconectado_wsp4, inbox_fijo, linea_origen, area FROM conversaciones WHERE id = $1`, [
          facts.disconnectedConversationId,
        ])
      ).rows[0];
      expect(off).toEqual({
        desconectado_wsp4: true,
        inbox_fijo: 'ventas_api',
        linea_origen: 'ventas_api',
        area: 'ventas_api',
      });
      // No unique key on conversations' phone or (phone, line) and none on the wamid.
      const uniques = (
        await c.query(
          `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename IN ('conversaciones', 'mensajes') AND indexdef LIKE 'CREATE UNIQUE%'`,
        )
      ).rows.map((r) => r.indexdef as string);
      expect(uniques.every((d) => d.includes('(id)'))).toBe(true);
      const menu = (
        await c.query(
          `SELECT count(*)::int AS n FROM router_menu_opciones o JOIN router_menu_config m ON m.id = o.menu_config_id WHERE m.tipo_menu = 'principal'`,
        )
      ).rows[0].n;
      expect(menu).toBe(4);
    });
  });

  it.each([
    ['id', 'uuid', 'tickets(id)'],
    ['ticket_id', 'text', 'tickets(ticket_id)'],
    ['none', 'text', null],
  ] as const)(
    'when ticketFk is %s, then derivaciones.ticket_id is %s referencing %s and points at the tickets',
    async (ticketFk, type, target) => {
      await buildCrmDatabase(TEST_DATABASE_URL, { ticketFk });
      await withClient(async (c) => {
        const col = (
          await c.query(
            `SELECT data_type FROM information_schema.columns WHERE table_name = 'derivaciones' AND column_name = 'ticket_id'`,
          )
        ).rows[0];
        expect(col.data_type).toBe(type);
        const fk = (
          await c.query(
            `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'derivaciones'::regclass AND contype = 'f' AND conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = 'derivaciones'::regclass AND attname = 'ticket_id')]`,
          )
        ).rows[0];
        expect(fk?.def ?? null).toBe(target === null ? null : `FOREIGN KEY (ticket_id) REFERENCES ${target}`);
        const joined = (
          await c.query(
            `SELECT count(*)::int AS n FROM derivaciones d JOIN tickets t ON d.ticket_id::text = (CASE WHEN $1 = 'ticket_id' THEN t.ticket_id ELSE t.id::text END)`,
            [ticketFk],
          )
        ).rows[0].n;
        expect(joined).toBe(3);
      });
    },
  );

  it('when reactionUserIdNotNull is set, then mensaje_reacciones.usuario_id is NOT NULL as 0223fb6 declared it', async () => {
    await buildCrmDatabase(TEST_DATABASE_URL, { reactionUserIdNotNull: true });
    await withClient(async (c) => {
      const col = (
        await c.query(
          `SELECT is_nullable FROM information_schema.columns WHERE table_name = 'mensaje_reacciones' AND column_name = 'usuario_id'`,
        )
      ).rows[0];
      expect(col.is_nullable).toBe('NO');
    });
  });
});
