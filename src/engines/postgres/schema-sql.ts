/**
 * The PostgreSQL engine's tables, in one schema shared by every queue (rows carry their queue).
 * A task is one row of `tasks`: the fields fixed at enqueue are one JSON text (`data`), those that
 * change are columns. `q` says where a row waits: 1 ready to claim, 2 until `run_at`, 0 nowhere.
 * Partial indexes only hold rows that wait or run, so the hot claim and sweep queries stay small; a
 * finished row is in its primary key only (the deletion of expired rows walks the table instead).
 * Key columns (queue names, ids, keys) use the "C" collation: they compare bytewise.
 * Every transition is a function of {@link functionsSql}; this file is the tables.
 */

/** Version of the layout below; `migrations` keeps the highest one applied. */
export const SCHEMA_VERSION = 18;

/** The text key columns (table, column) that use the "C" collation from version 8 on. */
const KEY_COLUMNS = [
  ['tasks', 'queue'], ['tasks', 'id'], ['items', 'queue'], ['items', 'task_id'], ['queues', 'queue'], ['workers', 'queue'],
  ['workers', 'id'], ['state', 'queue'], ['state', 'state'], ['state', 'key'], ['locks', 'queue'], ['locks', 'key'],
  ['rate', 'queue'], ['rate', 'key'], ['tasks', 'worker_id'],
].map(([t, c]) => `('${t}', '${c}')`).join(', ');

/**
 * How full an insert leaves a page of `tasks`: the rest is room for the versions the claim and the
 * end write, which then stay on the row's page (an update to another page also writes a lock
 * record and the whole new row to the WAL).
 */
const TASKS_FILLFACTOR = 50;

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
  queue text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
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
) WITH (fillfactor = ${TASKS_FILLFACTOR});
CREATE INDEX IF NOT EXISTS tasks_ready ON ${s}.tasks (queue, priority, seq) WHERE q = 1;
CREATE INDEX IF NOT EXISTS tasks_timed ON ${s}.tasks (queue, run_at) WHERE q = 2;
CREATE INDEX IF NOT EXISTS tasks_running ON ${s}.tasks (queue, worker_id) WHERE status = 'process';
CREATE INDEX IF NOT EXISTS tasks_waiting ON ${s}.tasks (queue, worker_id) WHERE status = 'waiting';
CREATE TABLE IF NOT EXISTS ${s}.items (
  queue text COLLATE "C" NOT NULL,
  task_id text COLLATE "C" NOT NULL,
  idx int NOT NULL,
  item text NOT NULL,
  PRIMARY KEY (queue, task_id, idx),
  FOREIGN KEY (queue, task_id) REFERENCES ${s}.tasks (queue, id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS ${s}.queues (queue text COLLATE "C" PRIMARY KEY, paused boolean NOT NULL DEFAULT false);
CREATE TABLE IF NOT EXISTS ${s}.workers (
  queue text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  info text NOT NULL,
  last_seen bigint NOT NULL,
  PRIMARY KEY (queue, id)
);
CREATE TABLE IF NOT EXISTS ${s}.state (
  queue text COLLATE "C" NOT NULL,
  state text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  value text NOT NULL,
  PRIMARY KEY (queue, state, key)
);
CREATE TABLE IF NOT EXISTS ${s}.locks (queue text COLLATE "C" NOT NULL, key text COLLATE "C" NOT NULL, until bigint NOT NULL, PRIMARY KEY (queue, key));
CREATE TABLE IF NOT EXISTS ${s}.rate (queue text COLLATE "C" NOT NULL, key text COLLATE "C" NOT NULL, at bigint NOT NULL, n bigserial, PRIMARY KEY (queue, key, at, n));
-- version 2: ctx.log() lines and the history of retried attempts (JSON arrays)
ALTER TABLE ${s}.tasks ADD COLUMN IF NOT EXISTS logs text;
ALTER TABLE ${s}.tasks ADD COLUMN IF NOT EXISTS attempts text;
-- version 8: key columns compare bytewise (the "C" collation): every index insert and lookup of
-- the claim and end path compares queue names and ids, which a locale collation makes costly
DO $v8$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.relname, string_agg(format('ALTER COLUMN %I TYPE text COLLATE "C"', a.attname), ', ') AS alters
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace ns ON ns.oid = c.relnamespace
    WHERE ns.nspname = '${s.slice(1, -1)}' AND NOT a.attisdropped AND a.attcollation <> 'pg_catalog."C"'::regcollation
      AND (c.relname, a.attname) IN (${KEY_COLUMNS})
    GROUP BY c.relname
    ORDER BY c.relname = 'tasks' DESC
  LOOP
    EXECUTE format('ALTER TABLE %I.%I ', '${s.slice(1, -1)}', r.relname) || r.alters;
  END LOOP;
END $v8$;
-- version 9: no table change (the function enqueue_claim, made with the functions)
-- version 10: no table change (enqueue_claim says when its claim left nothing ready)
-- version 11: no table change (step says so too)
-- version 12: no table change (step_lean: step answering only the ends it did not apply)
-- version 13: no table change (step_keep: step_lean applying the retention of its ends in its transaction)
-- version 14: more room on each page for the claim's and the end's versions of its rows (new pages only)
ALTER TABLE ${s}.tasks SET (fillfactor = ${TASKS_FILLFACTOR});
-- version 15: no index on expires_at (an end wrote one entry in it); the sweep walks the table in
-- ranges of blocks, the next range each time (sweep_seq)
DROP INDEX IF EXISTS ${s}.tasks_expiry;
CREATE SEQUENCE IF NOT EXISTS ${s}.sweep_seq;
-- version 16: no table change (enqueue and enqueue_claim take again an id whose row expired but is not swept yet)
-- version 17: no table change (push_items: a generator's items in one call)
`;
}
