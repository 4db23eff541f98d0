/**
 * The PostgreSQL engine's tables, in one schema shared by every queue (rows carry their queue).
 * A task is one row of `tasks`: the fields fixed at enqueue are one JSON text (`data`), those that
 * change are columns. `q` says where a row waits: 1 ready to claim, 2 until `run_at`, 0 nowhere.
 * Partial indexes only hold rows that wait or run, so the hot claim and sweep queries stay small.
 * Every transition is a function of {@link functionsSql}; this file is the tables.
 */

/** Version of the layout below; `migrations` keeps the highest one applied. */
export const SCHEMA_VERSION = 4;

/** Quotes a schema name (checked to be a plain identifier). */
export function quoteSchema(schema: string): string {
  return '"' + schema + '"';
}

/** The tables and indexes of schema `s` (already quoted). Idempotent. */
export function tablesSql(s: string): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
CREATE SEQUENCE IF NOT EXISTS ${s}.task_seq;
CREATE TABLE IF NOT EXISTS ${s}.tasks (
  queue text NOT NULL,
  id text NOT NULL,
  seq bigint NOT NULL DEFAULT nextval('${s}.task_seq'),
  name text NOT NULL,
  status text NOT NULL,
  q smallint NOT NULL DEFAULT 0,
  priority double precision NOT NULL DEFAULT 0,
  run_at bigint,
  attempt int NOT NULL DEFAULT 0,
  stalls int NOT NULL DEFAULT 0,
  data text NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  started_at bigint,
  finished_at bigint,
  worker_id text,
  lease_until bigint,
  result text,
  error text,
  cancel_reason text,
  progress text,
  cancel_req text,
  expires_at bigint,
  PRIMARY KEY (queue, id)
) WITH (fillfactor = 85);
CREATE INDEX IF NOT EXISTS tasks_ready ON ${s}.tasks (queue, priority, seq) WHERE q = 1;
CREATE INDEX IF NOT EXISTS tasks_timed ON ${s}.tasks (queue, run_at) WHERE q = 2;
CREATE INDEX IF NOT EXISTS tasks_running ON ${s}.tasks (queue, worker_id) WHERE status = 'process';
CREATE INDEX IF NOT EXISTS tasks_expiry ON ${s}.tasks (queue, expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS ${s}.items (
  queue text NOT NULL,
  task_id text NOT NULL,
  idx int NOT NULL,
  item text NOT NULL,
  PRIMARY KEY (queue, task_id, idx),
  FOREIGN KEY (queue, task_id) REFERENCES ${s}.tasks (queue, id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS ${s}.queues (queue text PRIMARY KEY, paused boolean NOT NULL DEFAULT false);
CREATE TABLE IF NOT EXISTS ${s}.workers (
  queue text NOT NULL,
  id text NOT NULL,
  info text NOT NULL,
  last_seen bigint NOT NULL,
  PRIMARY KEY (queue, id)
);
CREATE TABLE IF NOT EXISTS ${s}.state (
  queue text NOT NULL,
  state text NOT NULL,
  key text NOT NULL,
  value text NOT NULL,
  PRIMARY KEY (queue, state, key)
);
CREATE TABLE IF NOT EXISTS ${s}.locks (queue text NOT NULL, key text NOT NULL, until bigint NOT NULL, PRIMARY KEY (queue, key));
CREATE TABLE IF NOT EXISTS ${s}.rate (queue text NOT NULL, key text NOT NULL, at bigint NOT NULL, n bigserial, PRIMARY KEY (queue, key, at, n));
-- version 2: ctx.log() lines and the history of retried attempts (JSON arrays)
ALTER TABLE ${s}.tasks ADD COLUMN IF NOT EXISTS logs text;
ALTER TABLE ${s}.tasks ADD COLUMN IF NOT EXISTS attempts text;
`;
}
