/**
 * The PostgreSQL engine (`qtasks/postgres`, the `pg` driver): claims with FOR UPDATE SKIP LOCKED,
 * wake-ups and cross-process events with LISTEN/NOTIFY, leases and stall recovery, transactional
 * enqueue, all in one schema (default `qtasks`) made on first use or by `qtasks migrate`.
 */
import type { Engine } from '../../engine/engine';
import type { PostgresEngineOptions } from './pg-options';
import { PostgresBroker } from './postgres-broker';
import { PostgresStorage } from './postgres-storage';

export { PostgresBroker } from './postgres-broker';
export type { TransactionClient } from './postgres-broker';
export { PostgresStorage } from './postgres-storage';
export { migratePostgres } from './migrate';
export type { PostgresEngineOptions } from './pg-options';

/**
 * The PostgreSQL engine: a broker and a storage sharing one pool. A URL's `schema` parameter
 * (`postgres://host/db?schema=jobs`) chooses the schema, as the `schema` option does.
 * @example
 * ```ts
 * import { postgresEngine } from 'qtasks/postgres';
 * const app = new QTasks({ name: 'emails', engine: postgresEngine({ connectionString: 'postgres://localhost/app' }) });
 * ```
 */
export function postgresEngine(options: PostgresEngineOptions): Engine {
  return { name: 'postgres', broker: new PostgresBroker(), storage: new PostgresStorage(withSchemaParam(options)) };
}

/**
 * A PostgreSQL storage alone, for a broker of another engine that keeps its records in any
 * storage (`new QTasks({ broker, storage: postgresStorage({ connectionString }) })`).
 */
export function postgresStorage(options: PostgresEngineOptions): PostgresStorage {
  return new PostgresStorage(withSchemaParam(options));
}

/** Moves a `schema` URL parameter into the options (the driver would take it for a server setting). */
function withSchemaParam(options: PostgresEngineOptions): PostgresEngineOptions {
  const url = options.connectionString;
  if (url === undefined || !/[?&]schema=/.test(url)) return options;
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  return { ...options, connectionString: parsed.toString(), schema: options.schema ?? schema };
}
