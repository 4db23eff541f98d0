/**
 * Helpers of the PostgreSQL test suites: the server (127.0.0.1:5432, user postgres, or
 * QTASKS_PG_URL), a database of its own per test file (made in beforeAll, dropped in afterAll), a
 * clear failure naming PostgreSQL when it is unreachable, and apps on the PostgreSQL engine.
 */
import 'reflect-metadata';
import { Client } from 'pg';
import { QTasks, QTasksOptions } from 'qtasks';
import { postgresEngine } from 'qtasks/postgres';

/** The server the tests use (without a database name). */
export const PG_SERVER = (process.env.QTASKS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');

let seq = 0;

/** Connects to the server's `postgres` database, failing with a message naming PostgreSQL. */
export async function adminClient(): Promise<Client> {
  const c = new Client({ connectionString: `${PG_SERVER}/postgres`, connectionTimeoutMillis: 3_000 });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(`The PostgreSQL tests need PostgreSQL at ${PG_SERVER} (user postgres, no password; set QTASKS_PG_URL to use another): ${(err as Error).message}`);
  }
  return c;
}

/** A database of this test file: `url` once `create()` ran; `drop()` removes it (and its sessions). */
export class TestDatabase {
  readonly name: string;
  url = '';

  constructor(label: string) {
    this.name = `qt_${label}_${process.pid}_${Date.now().toString(36)}_${++seq}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  }

  async create(): Promise<void> {
    const c = await adminClient();
    try {
      await c.query(`CREATE DATABASE "${this.name}"`);
    } finally {
      await c.end();
    }
    this.url = `${PG_SERVER}/${this.name}`;
  }

  async drop(): Promise<void> {
    const c = await adminClient();
    try {
      await c.query(`DROP DATABASE IF EXISTS "${this.name}" WITH (FORCE)`);
    } finally {
      await c.end();
    }
  }

  /** Runs one statement in this database. */
  async query<T extends object = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]> {
    const c = new Client({ connectionString: this.url });
    await c.connect();
    try {
      return (await c.query<T & Record<string, unknown>>(text, params)).rows;
    } finally {
      await c.end();
    }
  }

  /** Creates the database before the file's tests and drops it after them. */
  hooks(): this {
    beforeAll(() => this.create(), 20_000);
    afterAll(() => this.drop(), 20_000);
    return this;
  }
}

/** An app on the PostgreSQL engine in `db` (schema `schema`, default qtasks). */
export function pgApp(db: TestDatabase, options: QTasksOptions & { schema?: string } = {}): QTasks {
  const { schema, ...rest } = options;
  return new QTasks({ discover: false, ...rest, engine: postgresEngine({ connectionString: db.url, schema, poolSize: 4 }) });
}
