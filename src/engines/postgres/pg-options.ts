/**
 * Options of the PostgreSQL engine.
 */
import type { Pool } from 'pg';

/** Where the PostgreSQL engine keeps its tables. */
export interface PostgresEngineOptions {
  /** A `postgres://` URL; the engine makes its own pool (ended by `close()`). */
  connectionString?: string;
  /** A `pg` Pool of yours (left open by `close()`); one client of it is held for LISTEN. */
  pool?: Pool;
  /** Schema of the engine's tables (default `qtasks`), made on first use. */
  schema?: string;
  /** Connections of the engine's own pool (default 8). */
  poolSize?: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** True for a schema name the engine accepts (a plain SQL identifier). */
export function isPlainIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}
