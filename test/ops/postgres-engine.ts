/**
 * The PostgreSQL engine for the operations suites: apps in a database of the test file (made
 * before its tests, dropped after them); two apps made for one queue share it.
 */
import type { OpsEngine } from './helpers';
import { pgApp, TestDatabase } from '../postgres/pg-support';

/** An OpsEngine on a fresh database; call from the top of a test file. */
export function postgresOpsEngine(label: string): OpsEngine {
  const db = new TestDatabase(label).hooks();
  return {
    label: 'PostgreSQL',
    shared: true,
    make: (queue, options) => pgApp(db, { ...options, name: queue }),
    // the database is dropped after the file; queue names are unique per test
    cleanup: async () => undefined,
  };
}
