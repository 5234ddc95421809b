/**
 * The one door to SQL. Two engines stand behind it: a `pg` pool (PostgreSQL / Supabase) and the
 * embedded PGlite under DATA_DIR. Callers write plain PostgreSQL with $n parameters; JSON goes in as
 * text cast to ::jsonb and timestamps as ISO text cast to ::timestamptz so both engines behave alike.
 */
export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
}

/** A connection that can also run a multi-statement SQL script (migrations, seed). */
export interface ScriptRunner extends Queryable {
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly engine: 'postgres' | 'pglite';
  /** Round trips issued since start: the benchmark's "statements per message" comes from here. */
  readonly statementCount: () => number;
  /** BEGIN … COMMIT on one connection; ROLLBACK when fn throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs fn while holding a session-level advisory lock (migrations from several processes). */
  withAdvisoryLock<T>(key: number, fn: (conn: ScriptRunner) => Promise<T>): Promise<T>;
  /** `select 1` with a short timeout; throws STORE_UNAVAILABLE (details.reason `disk_full` while writes fail for lack of space). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
