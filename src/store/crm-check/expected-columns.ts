import type { Schema } from './introspect.js';

/** A column type reduced to what the router's SQL cares about. */
export type TypeFamily =
  | 'text'
  | 'uuid'
  | 'timestamptz'
  | 'timestamp'
  | 'integer'
  | 'numeric'
  | 'boolean'
  | 'jsonb'
  | 'json'
  | 'array'
  | 'other';

export function typeFamily(formatted: string): TypeFamily {
  const t = formatted.toLowerCase();
  if (t.endsWith('[]')) return 'array';
  if (t === 'text' || t.startsWith('character varying') || t.startsWith('character(') || t === 'character')
    return 'text';
  if (t === 'uuid') return 'uuid';
  if (t.startsWith('timestamp') && t.includes('with time zone') && !t.includes('without')) return 'timestamptz';
  if (t.startsWith('timestamp')) return 'timestamp';
  if (t === 'integer' || t === 'smallint' || t === 'bigint') return 'integer';
  if (t.startsWith('numeric') || t === 'real' || t === 'double precision') return 'numeric';
  if (t === 'boolean') return 'boolean';
  if (t === 'jsonb') return 'jsonb';
  if (t === 'json') return 'json';
  return 'other';
}

interface Expected {
  types: readonly TypeFamily[];
  /** The router writes NULL here (a NOT NULL column would reject its rows). */
  nullable?: true;
}

const text: Expected = { types: ['text'] };
const uuid: Expected = { types: ['uuid'] };
const ts: Expected = { types: ['timestamptz'] };
const int: Expected = { types: ['integer'] };
const bool: Expected = { types: ['boolean'] };
const json: Expected = { types: ['jsonb'] };

/**
 * The CRM columns the router reads or writes, with the type family its statements assume
 * (CRM-CONTRACT §2–§6). A column that exists with another type, or NOT NULL where the router writes
 * NULL, blocks the router; a missing one is the migrations' job and only reported.
 */
export const EXPECTED_COLUMNS: Readonly<Record<string, Readonly<Record<string, Expected>>>> = {
  contactos: { id: uuid, telefono: text, nombre: text, metadata: json, created_at: ts, updated_at: ts },
  conversaciones: {
    id: uuid,
    contacto_id: uuid,
    telefono: text,
    linea_origen: text,
    area: text,
    estado: text,
    router_estado: text,
    menu_actual: text,
    ultimo_mensaje: text,
    ts_ultimo_mensaje: ts,
    mensajes_no_leidos: int,
    ventana_24h_fin: ts,
    ventana_72h_fin: ts,
    desconectado_wsp4: bool,
    inbox_fijo: text,
    metadata: json,
    created_at: ts,
    updated_at: ts,
  },
  mensajes: {
    id: uuid,
    conversacion_id: uuid,
    mensaje: text,
    tipo: text,
    direccion: text,
    remitente_tipo: text,
    remitente_nombre: text,
    whatsapp_message_id: text,
    whatsapp_context_id: text,
    mensaje_citado_id: uuid,
    media_url: text,
    media_type: text,
    estado_envio: text,
    eliminado: bool,
    metadata: json,
    timestamp: ts,
    created_at: ts,
  },
  mensaje_reacciones: {
    id: uuid,
    mensaje_id: uuid,
    usuario_id: { types: ['uuid'], nullable: true },
    emoji: text,
    created_at: ts,
  },
  tickets: { id: uuid, ticket_id: text, conversacion_id: uuid, area: text, estado: text },
  // The old router writes tickets.id (uuid) here while DS:162 documents text → tickets(ticket_id):
  // either works as long as the router learns which (reported with its FK).
  derivaciones: {
    conversacion_id: uuid,
    area_origen: text,
    area_destino: text,
    ticket_id: { types: ['text', 'uuid'] },
    ts_derivacion: ts,
  },
};

export type ColumnProblem = 'missing_table' | 'missing' | 'type' | 'not_null';

export interface ColumnFinding {
  table: string;
  column: string;
  expected: readonly TypeFamily[];
  /** format_type() of the live column, null when it does not exist. */
  actual: string | null;
  problem: ColumnProblem | null;
}

/** Every expected column against the live schema (problem null = as expected). */
export function compareColumns(schema: Schema): ColumnFinding[] {
  const findings: ColumnFinding[] = [];
  for (const [table, columns] of Object.entries(EXPECTED_COLUMNS)) {
    for (const [column, expected] of Object.entries(columns)) {
      const live = schema.column(table, column);
      let problem: ColumnProblem | null = null;
      if (!schema.has(table)) problem = 'missing_table';
      else if (!live) problem = 'missing';
      else if (!expected.types.includes(typeFamily(live.type))) problem = 'type';
      else if (expected.nullable && !live.nullable) problem = 'not_null';
      findings.push({ table, column, expected: expected.types, actual: live?.type ?? null, problem });
    }
  }
  return findings;
}
