import { describe, expect, it } from 'vitest';
import { typeFamily } from '../../../../src/store/crm-check/expected-columns.js';
import { migrationObjects, splitStatements } from '../../../../src/store/crm-check/migration-objects.js';

describe('migration objects read from SQL', () => {
  it('when a script holds comments, quoted semicolons and $$ bodies, then it splits on top-level semicolons only', () => {
    const sql = `-- a comment; with a semicolon
      CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN PERFORM 1; RETURN 2; END $body$;
      /* block; comment */ INSERT INTO t VALUES ('a;b', "x;y");
      SELECT 1`;
    expect(splitStatements(sql)).toEqual([
      'CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN PERFORM 1; RETURN 2; END $body$',
      `INSERT INTO t VALUES ('a;b', "x;y")`,
      'SELECT 1',
    ]);
  });

  it('when migrations create tables, add columns and indexes, then each is found with its file', () => {
    const sql = `
      CREATE TABLE IF NOT EXISTS public.Router_X (
        id bigserial PRIMARY KEY,
        "Estado" text NOT NULL DEFAULT 'a,b' CHECK (estado IN ('a', 'b')),
        numeric_col numeric(10, 2),
        CONSTRAINT x_unica UNIQUE (id, "Estado")
      );
      ALTER TABLE IF EXISTS ONLY mensajes ADD COLUMN IF NOT EXISTS media_size bigint, ADD IF NOT EXISTS media_error text;
      ALTER TABLE mensajes ADD COLUMN sin_guardia text;
      CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS mensajes_wamid_unico ON ONLY public.mensajes (whatsapp_message_id) WHERE whatsapp_message_id <> '';
      CREATE INDEX IF NOT EXISTS "Idx_Y" ON router_x (id);
      CREATE TABLE sin_guardia (id int);`;
    expect(migrationObjects(sql, '0010-x.sql')).toEqual([
      { kind: 'table', table: 'router_x', file: '0010-x.sql' },
      { kind: 'column', table: 'router_x', column: 'id', file: '0010-x.sql', viaCreateTable: true },
      { kind: 'column', table: 'router_x', column: 'Estado', file: '0010-x.sql', viaCreateTable: true },
      { kind: 'column', table: 'router_x', column: 'numeric_col', file: '0010-x.sql', viaCreateTable: true },
      { kind: 'column', table: 'mensajes', column: 'media_size', file: '0010-x.sql', viaCreateTable: false },
      { kind: 'column', table: 'mensajes', column: 'media_error', file: '0010-x.sql', viaCreateTable: false },
      { kind: 'index', name: 'mensajes_wamid_unico', table: 'mensajes', unique: true, file: '0010-x.sql' },
      { kind: 'index', name: 'Idx_Y', table: 'router_x', unique: false, file: '0010-x.sql' },
    ]);
  });

  it('when catalog types are reduced to families, then varchar is text and timestamp without zone is not timestamptz', () => {
    expect(typeFamily('character varying(20)')).toBe('text');
    expect(typeFamily('timestamp with time zone')).toBe('timestamptz');
    expect(typeFamily('timestamp without time zone')).toBe('timestamp');
    expect(typeFamily('text[]')).toBe('array');
    expect(typeFamily('bigint')).toBe('integer');
  });
});
