/**
 * The PostgreSQL engine (`qtasks/postgres`, the `pg` driver): claims with FOR UPDATE SKIP LOCKED,
 * wake-ups and cross-process events with LISTEN/NOTIFY, leases and stall recovery, transactional
 * enqueue, all in one schema (default `qtasks`) made on first use or by `qtasks migrate`.
 */
import type { Broker } from '../../engine/broker';
import type { Storage } from '../../engine/storage';
import type { PostgresEngineOptions } from './pg-options';
import { PostgresBroker } from './postgres-broker';
import { PostgresStorage } from './postgres-storage';

export { PostgresBroker } from './postgres-broker';
export type { TransactionClient } from './postgres-broker';
export { PostgresStorage } from './postgres-storage';
export { migratePostgres } from './migrate';
export type { PostgresEngineOptions } from './pg-options';

/**
 * A PostgreSQL broker and storage sharing one pool.
 * @example
 * ```ts
 * import { postgresEngine } from 'qtasks/postgres';
 * const app = new QTasks({ name: 'emails', ...postgresEngine({ connectionString: 'postgres://localhost/app' }) });
 * ```
 */
export function postgresEngine(options: PostgresEngineOptions): { broker: Broker; storage: Storage } {
  return { broker: new PostgresBroker(), storage: new PostgresStorage(options) };
}

/** A PostgreSQL storage alone (for a broker of another engine that keeps its records elsewhere). */
export function postgresStorage(options: PostgresEngineOptions): PostgresStorage {
  return new PostgresStorage(options);
}
