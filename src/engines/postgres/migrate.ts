/**
 * Makes the engine's tables and functions: on first use by any app (producer or worker), or ahead of
 * time by `qtasks migrate --url postgres://…`. Safe when many processes start at once: the work is
 * done under a transaction-scoped advisory lock, and skipped when the schema is up to date.
 */
import { Pool } from 'pg';
import type { PoolClient } from 'pg';
import { ErrorCodes, QTasksError } from '../../errors';
import { functionsSql } from './functions-sql';
import { isPlainIdentifier } from './pg-options';
import { SCHEMA_VERSION, tablesSql } from './schema-sql';

/** The schema version installed, 0 when there is none (checked without failing the transaction). */
async function installedVersion(client: PoolClient, schema: string, s: string): Promise<number> {
  // pg_class read with the statement's snapshot (to_regclass may use a stale catalog snapshot)
  const t = await client.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE ns.nspname = $1 AND c.relname = 'migrations'",
    [schema],
  );
  if (t.rows[0]?.n !== 1) return 0;
  const r = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${s}.migrations`);
  return r.rows[0]?.v ?? 0;
}

/** Creates (or brings up to date) the tables of `schema`; returns true when it changed anything. */
export async function ensureSchema(pool: Pool, schema: string): Promise<boolean> {
  if (!isPlainIdentifier(schema)) {
    throw new QTasksError(ErrorCodes.BAD_OPTION, `PostgreSQL schema ${JSON.stringify(schema)} must be a plain identifier (letters, digits, _)`);
  }
  const s = '"' + schema + '"';
  const client = await pool.connect();
  try {
    if ((await installedVersion(client, schema, s)) >= SCHEMA_VERSION) return false;
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['qtasks.migrate:' + schema]);
      if ((await installedVersion(client, schema, s)) >= SCHEMA_VERSION) {
        await client.query('COMMIT');
        return false;
      }
      await client.query(tablesSql(s) + functionsSql(s));
      await client.query(`INSERT INTO ${s}.migrations (version) VALUES ($1) ON CONFLICT DO NOTHING`, [SCHEMA_VERSION]);
      await client.query('COMMIT');
      return true;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    client.release();
  }
}

/**
 * Creates the engine's tables ahead of time (what `qtasks migrate --url` runs).
 * @example
 * ```ts
 * await migratePostgres({ connectionString: 'postgres://localhost/app', schema: 'jobs' });
 * ```
 */
export async function migratePostgres(options: { connectionString?: string; pool?: Pool; schema?: string }): Promise<{ schema: string; changed: boolean }> {
  const schema = options.schema ?? 'qtasks';
  const pool = options.pool ?? new Pool({ connectionString: options.connectionString, max: 1 });
  try {
    return { schema, changed: await ensureSchema(pool, schema) };
  } finally {
    if (!options.pool) await pool.end();
  }
}
