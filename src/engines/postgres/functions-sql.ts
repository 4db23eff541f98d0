/**
 * The PostgreSQL engine's transitions, one SQL function each, so that a transition is one round
 * trip and one transaction: `enqueue`, `step` (record a batch of ends and claim the next batch with
 * FOR UPDATE SKIP LOCKED), `enqueue_claim` (an enqueue and the claim of a worker of the same
 * process), `lease_round` (renew, heartbeat, stall sweep, retention), `cancel`, `retry`,
 * `push_item`, `push_items`, `state_add_members`, `rate_limit`. Notifications go out with pg_notify on the queue's channel and are
 * delivered at commit, so a listener always finds the rows it is told about.
 *
 * `step`, `lease_round` and `push_item` commit without waiting for the WAL flush (a crash can make a task
 * run again, never lose one); enqueue, enqueue_claim, cancel and retry wait for it as usual.
 *
 * Channel messages (first character): `n` tasks queued (followed by the earliest due time of delayed
 * ones, if any); `F<worker> [..]` ends recorded by that worker (records or ids); `f[..]` ends
 * recorded elsewhere (cancel, stall: ids); `i[id,index,item?]` a streamed item; `p{..}` progress;
 * `c[id,worker,reason,long]` a cancel request for a running task; `w[worker,command]` an operator's
 * command for one worker.
 */

import { DROPPED, pastAgeSql, pastCountSql, RetentionSlots, sweepSql } from './pg-end-extras';
import { BY_ID } from './task-end';

/**
 * The insert of `enqueue` and `enqueue_claim`: the new tasks of p_queue in the order given, ids that
 * exist already skipped; v_ins gets the inserted ids, v_due the earliest due time among them.
 *
 * An id is free again once its row has expired (a retention dropped it, or its `resultTtlMs`
 * passed) even though the sweep has not deleted the row yet: readers no longer find it. Only when
 * some id was skipped, the rows of the skipped ids that expired by the task's creation time are
 * deleted (their stream items with them), and the skipped tasks inserted again (also those whose row
 * a sweep deleted meanwhile). The delete locks the row, so of two adders of that id one deletes and
 * inserts, and the other finds the new row and reports it. Uses v_ins, v_due, v_re, v_re_due.
 */
function insertSql(s: string): string {
  const insert = (del: string) => `
    INSERT INTO ${s}.tasks AS t (queue, id, name, status, q, priority, run_at, data, created_at, updated_at)
    SELECT p_queue, u.id, u.name, CASE WHEN u.run_at IS NULL THEN 'new' ELSE 'delayed' END,
      CASE WHEN u.run_at IS NULL THEN 1 ELSE 2 END, u.pri, u.run_at, u.data, u.created, u.created
    FROM unnest(p_ids, p_names, p_pri, p_run_at, p_data, p_created) WITH ORDINALITY AS u(id, name, pri, run_at, data, created, ord)${del}
    ORDER BY u.ord
    ON CONFLICT (queue, id) DO NOTHING
    RETURNING t.id, t.run_at`;
  return `  WITH ins AS (${insert('')})
  SELECT array_agg(ins.id), min(ins.run_at) INTO v_ins, v_due FROM ins;
  IF coalesce(cardinality(v_ins), 0) < cardinality(p_ids) THEN
    DELETE FROM ${s}.tasks t USING unnest(p_ids, p_created) AS u(id, created)
    WHERE t.queue = p_queue AND t.id = u.id AND NOT (u.id = ANY(coalesce(v_ins, '{}'))) AND t.expires_at <= u.created;
    WITH ins AS (${insert("\n    WHERE NOT (u.id = ANY(coalesce(v_ins, '{}')))")})
    SELECT array_agg(ins.id), min(ins.run_at) INTO v_re, v_re_due FROM ins;
    IF v_re IS NOT NULL THEN
      v_ins := coalesce(v_ins, '{}') || v_re;
      v_due := least(v_due, v_re_due);
    END IF;
  END IF;
`;
}

/**
 * The claim of `step` and `enqueue_claim`: up to p_want ready tasks of p_queue for p_worker (rows
 * `c`), `p` when the queue is paused, `n` with the earliest due time of delayed tasks when no ready
 * task is left for it (the worker then records its ends without claiming until told of new ones);
 * v_n is how many it claimed, v_ready whether any ready task is left. Uses p_queue, p_worker, p_now,
 * p_lease, p_want, v_paused, v_n, v_ready.
 */
function claimSql(s: string): string {
  return `    -- shared with other claims, exclusive with set_paused: a pause waits for the claims under way,
    -- and no claim that read "not paused" runs its claim after the pause returned
    PERFORM pg_advisory_xact_lock_shared(hashtext('qtasks.queue'), hashtext(p_queue));
    SELECT qu.paused INTO v_paused FROM ${s}.queues qu WHERE qu.queue = p_queue;
    IF v_paused IS TRUE THEN
      RETURN QUERY SELECT 'p'::text, NULL::text, NULL::text, NULL::float8, NULL::text, NULL::int, NULL::bigint, NULL::bigint, NULL::bigint;
      v_n := 0;
    ELSE
      -- rows are picked by ctid (a TID scan): a join back on the key lets the planner scan the table
      UPDATE ${s}.tasks t SET q = 1, run_at = NULL, status = CASE WHEN t.status = 'delayed' THEN 'new' ELSE t.status END
      WHERE t.ctid = ANY(ARRAY(SELECT d.ctid FROM ${s}.tasks d WHERE d.queue = p_queue AND d.q = 2 AND d.run_at <= p_now
        ORDER BY d.run_at LIMIT 1000 FOR UPDATE SKIP LOCKED));
      RETURN QUERY
      -- p_now is when the worker sent the call: a task enqueued after that does not start before it was made
      UPDATE ${s}.tasks t SET status = 'process', q = 0, attempt = t.attempt + 1, worker_id = p_worker,
        started_at = greatest(p_now, t.created_at), updated_at = greatest(p_now, t.created_at), lease_until = p_lease, cancel_req = NULL
      WHERE t.ctid = ANY(ARRAY(SELECT r.ctid FROM ${s}.tasks r WHERE r.queue = p_queue AND r.q = 1 ORDER BY r.priority, r.seq
        LIMIT p_want FOR UPDATE SKIP LOCKED))
      RETURNING 'c'::text, t.id, t.name, t.priority, t.data, t.attempt, t.created_at, t.seq, t.stalls::bigint;
      GET DIAGNOSTICS v_n = ROW_COUNT;
      -- a claim that got fewer than it wanted took every ready row it could; one that got as many
      -- looks whether any is left (one probe of the ready index) and says so too when none is
      v_ready := false;
      IF v_n >= p_want THEN v_ready := EXISTS (SELECT 1 FROM ${s}.tasks r WHERE r.queue = p_queue AND r.q = 1); END IF;
      IF NOT v_ready THEN
        RETURN QUERY SELECT 'n'::text, NULL::text, NULL::text, NULL::float8, NULL::text, NULL::int, NULL::bigint, NULL::bigint, min(d.run_at)
          FROM ${s}.tasks d WHERE d.queue = p_queue AND d.q = 2;
      END IF;
    END IF;
`;
}

/**
 * The retention of the ends a step applied, in the step's own transaction (before the ends are
 * notified at commit): for each status and count (`v_rs`, `v_rc`) the queue's tasks of that end
 * past the newest `count`, for each status and age (`v_rs`, `v_ra`) those that finished longer ago.
 * A record a retention drops gets expires_at {@link DROPPED}.
 */
function retentionSql(s: string): string {
  const t = `${s}.tasks`;
  const slots: RetentionSlots = { queue: 'p_queue', now: 'p_now', status: 'v_k.st' };
  return `    IF v_rs IS NOT NULL THEN
      FOR v_k IN SELECT DISTINCT u.st, u.n FROM unnest(v_rs, v_rc) AS u(st, n) WHERE u.n IS NOT NULL LOOP
        ${pastCountSql(t, slots, 'v_k.n')};
      END LOOP;
      FOR v_k IN SELECT DISTINCT u.st, u.n FROM unnest(v_rs, v_ra) AS u(st, n) WHERE u.n IS NOT NULL LOOP
        ${pastAgeSql(t, slots, 'p_now - v_k.n')};
      END LOOP;
    END IF;
`;
}

/**
 * `step` (as workers of version 11 and older call it: it answers an `f` row for each end it
 * applied, and sends each end's notice as given), `step_lean` (version 12: it answers a `u` row
 * for each end it did not apply only, mostly none, and writes the notice of an end given as {@link BY_ID}
 * itself, its id as JSON) or `step_keep` (`keep`, version 13: step_lean that also applies the
 * retention of each end, `e_count` and `e_age`, in its own transaction; workers of version 12 and
 * older apply a retention by count or age in statements of their own after the step).
 */
function stepSql(s: string, name: 'step' | 'step_lean' | 'step_keep', claim: string): string {
  const lean = name !== 'step';
  const keep = name === 'step_keep';
  const notice = lean ? `CASE WHEN upd.js = '${BY_ID}' THEN to_json(upd.id)::text ELSE upd.js END` : 'upd.js';
  const keepArgs = keep ? ', e_count int[], e_age bigint[]' : '';
  const keepCols = keep ? ', cnt, age' : '';
  const keepUnnest = keep ? ', e_count, e_age' : '';
  const keepRet = keep ? ', t.status, e.cnt, e.age' : '';
  const kept = 'WHERE upd.cnt IS NOT NULL OR upd.age IS NOT NULL';
  const keepAgg = keep
    ? `, array_agg(upd.status) FILTER (${kept}), array_agg(upd.cnt) FILTER (${kept}), array_agg(upd.age) FILTER (${kept})`
    : '';
  const keepInto = keep ? ', v_rs, v_rc, v_ra' : '';
  const keepVars = keep ? ' v_rs text[]; v_rc int[]; v_ra bigint[]; v_k record;' : '';
  const answer = lean
    ? `IF coalesce(cardinality(v_ids), 0) < cardinality(e_ids) THEN
      RETURN QUERY SELECT 'u'::text, f.id, NULL::text, NULL::float8, NULL::text, NULL::int, NULL::bigint, NULL::bigint, NULL::bigint
        FROM unnest(e_ids) AS f(id) WHERE NOT (f.id = ANY(coalesce(v_ids, '{}')));
    END IF;`
    : `RETURN QUERY SELECT 'f'::text, f.id, NULL::text, NULL::float8, NULL::text, NULL::int, NULL::bigint, NULL::bigint, NULL::bigint
      FROM unnest(v_ids) AS f(id);`;
  return `
CREATE OR REPLACE FUNCTION ${s}.${name}(p_queue text, p_channel text, p_worker text, p_now bigint, p_lease bigint, p_ttl bigint,
  p_want int, e_ids text[], e_kinds text[], e_vals text[], e_run_at bigint[], e_attempts int[], e_json text[]${keepArgs})
RETURNS TABLE (k text, id text, name text, priority float8, data text, attempt int, created_at bigint, seq bigint, x bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE v_ids text[]; v_parts text[]; v_paused boolean; v_n int; v_ready boolean; v_requeued int;${keepVars}
BEGIN
  -- claims and ends do not wait for the WAL flush: a database crash can at worst make a task run
  -- again (its claim or end is lost, the lease sweep queues it again), never lose it
  PERFORM set_config('synchronous_commit', 'off', true);
  IF cardinality(e_ids) > 0 THEN
    -- a hash join of the ends on this worker's running rows; the row estimates of unnest() and of
    -- the partial index make the planner pick a nested loop that compares every pair
    PERFORM set_config('enable_nestloop', 'off', true);
    WITH e AS (SELECT * FROM unnest(e_ids, e_kinds, e_vals, e_run_at, e_attempts, e_json${keepUnnest}) AS u(id, kind, val, run_at, attempt, js${keepCols})),
    upd AS (
      UPDATE ${s}.tasks t SET
        status = CASE e.kind WHEN 's' THEN 'success' WHEN 'S' THEN 'success' WHEN 'e' THEN 'error' WHEN 'E' THEN 'error'
          WHEN 'c' THEN 'cancel' WHEN 'r' THEN 'retry' ELSE 'new' END,
        q = CASE e.kind WHEN 'r' THEN (CASE WHEN e.run_at > p_now THEN 2 ELSE 1 END) WHEN 'h' THEN 1 ELSE 0 END,
        run_at = CASE WHEN e.kind = 'r' AND e.run_at > p_now THEN e.run_at END,
        result = CASE WHEN e.kind IN ('s', 'S') THEN e.val ELSE t.result END,
        error = CASE WHEN e.kind IN ('e', 'E', 'r') THEN e.val WHEN e.kind IN ('s', 'S') THEN NULL ELSE t.error END,
        cancel_reason = CASE WHEN e.kind = 'c' THEN e.val ELSE t.cancel_reason END,
        attempt = CASE WHEN e.kind = 'h' THEN greatest(t.attempt - 1, 0) ELSE t.attempt END,
        finished_at = CASE WHEN e.kind IN ('s', 'S', 'e', 'E', 'c') THEN p_now END,
        -- S and E: dropped at the end (expired for every reader, whatever time it reads at)
        expires_at = CASE WHEN e.kind IN ('S', 'E') THEN ${DROPPED} WHEN e.kind IN ('s', 'e', 'c') THEN p_now + p_ttl END,
        updated_at = p_now, lease_until = NULL, cancel_req = NULL
      FROM e
      WHERE t.queue = p_queue AND t.id = e.id AND t.status = 'process' AND t.worker_id = p_worker AND t.attempt = e.attempt
      RETURNING t.id, e.js, t.q${keepRet})
    SELECT array_agg(upd.id), array_agg(${notice}) FILTER (WHERE upd.js <> ''), count(*) FILTER (WHERE upd.q = 1)${keepAgg}
      INTO v_ids, v_parts, v_requeued${keepInto} FROM upd;
    PERFORM set_config('enable_nestloop', 'on', true);
${keep ? retentionSql(s) : ''}    PERFORM ${s}.notify_list(p_channel, 'F' || p_worker || ' ', v_parts);
    IF v_requeued > 0 THEN PERFORM pg_notify(p_channel, 'n'); END IF;
${answer}
  END IF;
  IF p_want > 0 THEN
${claim}  END IF;
END $$;
`;
}

/** Every function of schema `s` (already quoted). Idempotent (CREATE OR REPLACE). */
export function functionsSql(s: string): string {
  const NOT_EXPIRED = '(t.expires_at IS NULL OR t.expires_at > p_now)';
  const claim = claimSql(s);
  return `
CREATE OR REPLACE FUNCTION ${s}.notify_list(p_channel text, p_prefix text, p_parts text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE buf text := ''; part text;
BEGIN
  IF p_parts IS NULL THEN RETURN; END IF;
  FOREACH part IN ARRAY p_parts LOOP
    IF buf <> '' AND octet_length(buf) + octet_length(part) + octet_length(p_prefix) > 7800 THEN
      PERFORM pg_notify(p_channel, p_prefix || '[' || buf || ']');
      buf := '';
    END IF;
    buf := CASE WHEN buf = '' THEN part ELSE buf || ',' || part END;
  END LOOP;
  IF buf <> '' THEN PERFORM pg_notify(p_channel, p_prefix || '[' || buf || ']'); END IF;
END $$;

CREATE OR REPLACE FUNCTION ${s}.enqueue(p_queue text, p_channel text, p_ids text[], p_names text[], p_pri float8[],
  p_run_at bigint[], p_data text[], p_created bigint[])
RETURNS SETOF ${s}.tasks LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE v_ins text[]; v_due bigint; v_re text[]; v_re_due bigint;
BEGIN
${insertSql(s)}  IF v_ins IS NOT NULL THEN PERFORM pg_notify(p_channel, 'n' || coalesce(v_due::text, '')); END IF;
  IF coalesce(cardinality(v_ins), 0) < cardinality(p_ids) THEN
    RETURN QUERY SELECT t.* FROM ${s}.tasks t WHERE t.queue = p_queue AND t.id = ANY(p_ids) AND NOT (t.id = ANY(coalesce(v_ins, '{}')));
  END IF;
END $$;

-- enqueue of a process whose worker has free slots: the same insert, then that worker's claim in
-- the same transaction (one round trip instead of two). Rows as step's (k 'c', 'p', 'n'), and 'e'
-- for an id that existed already (its row as JSON in data). Tasks are announced ('n') only when
-- some is left for others: delayed, or ready after the claim.
CREATE OR REPLACE FUNCTION ${s}.enqueue_claim(p_queue text, p_channel text, p_ids text[], p_names text[], p_pri float8[],
  p_run_at bigint[], p_data text[], p_created bigint[], p_worker text, p_now bigint, p_lease bigint, p_want int)
RETURNS TABLE (k text, id text, name text, priority float8, data text, attempt int, created_at bigint, seq bigint, x bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE v_ins text[]; v_due bigint; v_re text[]; v_re_due bigint; v_paused boolean; v_n int; v_ready boolean := false;
BEGIN
${insertSql(s)}  IF coalesce(cardinality(v_ins), 0) < cardinality(p_ids) THEN
    RETURN QUERY SELECT 'e'::text, t.id, NULL::text, NULL::float8, row_to_json(t)::text, NULL::int, NULL::bigint, NULL::bigint, NULL::bigint
      FROM ${s}.tasks t WHERE t.queue = p_queue AND t.id = ANY(p_ids) AND NOT (t.id = ANY(coalesce(v_ins, '{}')));
  END IF;
  IF v_ins IS NULL THEN RETURN; END IF;
  IF p_want > 0 THEN
${claim}  END IF;
  -- none of the inserted tasks is locked by another: when none is ready after the claim, the claim
  -- took every one that is not delayed
  IF v_due IS NOT NULL OR v_paused IS TRUE OR p_want <= 0 OR v_ready THEN PERFORM pg_notify(p_channel, 'n' || coalesce(v_due::text, '')); END IF;
END $$;

${stepSql(s, 'step', claim)}
${stepSql(s, 'step_lean', claim)}
${stepSql(s, 'step_keep', claim)}

-- rows: a cancel request of a running task of this worker (stalled NULL), or a task this round's
-- sweep took from a dead worker (stalled: its new status, 'new' or 'error'), for the caller's log
CREATE OR REPLACE FUNCTION ${s}.lease_round(p_queue text, p_channel text, p_worker text, p_info text, p_now bigint, p_lease bigint,
  p_max_stalls int, p_ttl bigint, p_dead_after bigint, p_held text[], p_before bigint)
RETURNS TABLE (id text, reason text, stalled text, name text, stalls int, worker text) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE v_ended text[]; v_requeued int;
  v_s_ids text[]; v_s_status text[]; v_s_names text[]; v_s_stalls int[]; v_s_workers text[];
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  IF p_worker <> '' THEN
    -- claimed by this worker without its knowing (the reply was lost): back to the queue, not a stall
    UPDATE ${s}.tasks t SET status = 'new', q = 1, attempt = greatest(t.attempt - 1, 0), lease_until = NULL, updated_at = p_now
      WHERE t.queue = p_queue AND t.status = 'process' AND t.worker_id = p_worker AND t.started_at < p_before
        AND NOT (t.id = ANY(p_held));
    IF FOUND THEN PERFORM pg_notify(p_channel, 'n'); END IF;
    UPDATE ${s}.tasks t SET lease_until = p_lease WHERE t.queue = p_queue AND t.status = 'process' AND t.worker_id = p_worker;
    -- tasks of this worker waiting for their children keep their lease too
    UPDATE ${s}.tasks t SET lease_until = p_lease WHERE t.queue = p_queue AND t.status = 'waiting' AND t.worker_id = p_worker;
    INSERT INTO ${s}.workers AS w (queue, id, info, last_seen) VALUES (p_queue, p_worker, p_info, p_now)
      ON CONFLICT (queue, id) DO UPDATE SET info = EXCLUDED.info, last_seen = EXCLUDED.last_seen;
  END IF;
  DELETE FROM ${s}.workers w WHERE w.queue = p_queue AND w.last_seen < p_now - p_dead_after;
  WITH upd AS (
    UPDATE ${s}.tasks t SET stalls = t.stalls + 1,
      status = CASE WHEN t.cancel_req IS NOT NULL THEN 'cancel' WHEN t.stalls + 1 > p_max_stalls THEN 'error' ELSE 'new' END,
      q = CASE WHEN t.cancel_req IS NULL AND t.stalls + 1 <= p_max_stalls THEN 1 ELSE 0 END,
      cancel_reason = CASE WHEN t.cancel_req LIKE '=%' THEN substr(t.cancel_req, 2) ELSE t.cancel_reason END,
      error = CASE WHEN t.cancel_req IS NULL AND t.stalls + 1 > p_max_stalls THEN json_build_object('name', 'StalledError',
        'code', 'QTASKS_ERR_STALLED', 'message', 'The task stalled ' || (t.stalls + 1) ||
        ' time(s): its worker stopped renewing its lease (crashed or blocked)')::text ELSE t.error END,
      finished_at = CASE WHEN t.cancel_req IS NOT NULL OR t.stalls + 1 > p_max_stalls THEN p_now END,
      expires_at = CASE WHEN t.cancel_req IS NOT NULL OR t.stalls + 1 > p_max_stalls THEN p_now + p_ttl END,
      updated_at = p_now, lease_until = NULL, cancel_req = NULL
    WHERE t.ctid = ANY(ARRAY(SELECT x.ctid FROM ${s}.tasks x WHERE x.queue = p_queue AND x.status IN ('process', 'waiting')
      AND x.lease_until < p_now LIMIT 1000 FOR UPDATE SKIP LOCKED))
    RETURNING t.id, t.status, t.name, t.stalls, t.worker_id)
  SELECT array_agg(to_json(upd.id)::text) FILTER (WHERE upd.status <> 'new'), count(*) FILTER (WHERE upd.status = 'new'),
    array_agg(upd.id) FILTER (WHERE upd.status <> 'cancel'), array_agg(upd.status) FILTER (WHERE upd.status <> 'cancel'),
    array_agg(upd.name) FILTER (WHERE upd.status <> 'cancel'), array_agg(upd.stalls) FILTER (WHERE upd.status <> 'cancel'),
    array_agg(upd.worker_id) FILTER (WHERE upd.status <> 'cancel')
    INTO v_ended, v_requeued, v_s_ids, v_s_status, v_s_names, v_s_stalls, v_s_workers FROM upd;
  PERFORM ${s}.notify_list(p_channel, 'f', v_ended);
  IF v_requeued > 0 THEN PERFORM pg_notify(p_channel, 'n'); END IF;
  ${sweepSql(s, 'p_now')};
  DELETE FROM ${s}.locks l WHERE l.queue = p_queue AND l.until < p_now;
  IF v_s_ids IS NOT NULL THEN
    RETURN QUERY SELECT w.id, NULL::text, w.st, w.nm, w.n, w.wk FROM unnest(v_s_ids, v_s_status, v_s_names, v_s_stalls, v_s_workers) AS w(id, st, nm, n, wk);
  END IF;
  IF p_worker <> '' THEN
    RETURN QUERY SELECT t.id, t.cancel_req, NULL::text, NULL::text, NULL::int, NULL::text FROM ${s}.tasks t
      WHERE t.queue = p_queue AND t.status IN ('process', 'waiting') AND t.worker_id = p_worker AND t.cancel_req IS NOT NULL;
  END IF;
END $$;

-- what workers of schema version 4 call: the same round, its cancel requests only
CREATE OR REPLACE FUNCTION ${s}.lease(p_queue text, p_channel text, p_worker text, p_info text, p_now bigint, p_lease bigint,
  p_max_stalls int, p_ttl bigint, p_dead_after bigint, p_held text[], p_before bigint)
RETURNS TABLE (id text, reason text) LANGUAGE sql AS $$
  SELECT r.id, r.reason FROM ${s}.lease_round(p_queue, p_channel, p_worker, p_info, p_now, p_lease, p_max_stalls, p_ttl,
    p_dead_after, p_held, p_before) r WHERE r.stalled IS NULL
$$;

CREATE OR REPLACE FUNCTION ${s}.set_paused(p_queue text, p_channel text, p_paused boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('qtasks.queue'), hashtext(p_queue));
  INSERT INTO ${s}.queues (queue, paused) VALUES (p_queue, p_paused) ON CONFLICT (queue) DO UPDATE SET paused = EXCLUDED.paused;
  IF NOT p_paused THEN PERFORM pg_notify(p_channel, 'n'); END IF;
END $$;

CREATE OR REPLACE FUNCTION ${s}.cancel(p_queue text, p_channel text, p_id text, p_reason text, p_now bigint, p_ttl bigint)
RETURNS int LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE v_status text; v_worker text; v_msg text;
BEGIN
  SELECT t.status, t.worker_id INTO v_status, v_worker FROM ${s}.tasks t
    WHERE t.queue = p_queue AND t.id = p_id AND ${NOT_EXPIRED} FOR UPDATE;
  IF v_status IN ('new', 'delayed', 'retry') OR (v_status = 'waiting' AND v_worker IS NULL) THEN
    UPDATE ${s}.tasks t SET status = 'cancel', q = 0, run_at = NULL, cancel_reason = p_reason, finished_at = p_now,
      updated_at = p_now, expires_at = p_now + p_ttl WHERE t.queue = p_queue AND t.id = p_id;
    PERFORM pg_notify(p_channel, 'f[' || to_json(p_id)::text || ']');
    RETURN 1;
  ELSIF v_status = 'process' OR (v_status = 'waiting' AND v_worker IS NOT NULL) THEN
    UPDATE ${s}.tasks t SET cancel_req = CASE WHEN p_reason IS NULL THEN '-' ELSE '=' || p_reason END
      WHERE t.queue = p_queue AND t.id = p_id;
    v_msg := 'c' || json_build_array(p_id, v_worker, p_reason, 0)::text;
    IF octet_length(v_msg) > 7900 THEN v_msg := 'c' || json_build_array(p_id, v_worker, NULL, 1)::text; END IF;
    PERFORM pg_notify(p_channel, v_msg);
    RETURN 2;
  END IF;
  RETURN 0;
END $$;

CREATE OR REPLACE FUNCTION ${s}.retry(p_queue text, p_channel text, p_id text, p_now bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  UPDATE ${s}.tasks t SET status = 'new', q = 1, attempt = 0, error = NULL, cancel_reason = NULL, finished_at = NULL,
    result = NULL, stalls = 0, started_at = NULL, worker_id = NULL, progress = NULL, expires_at = NULL, run_at = NULL,
    cancel_req = NULL, logs = NULL, attempts = NULL, updated_at = p_now
  WHERE t.queue = p_queue AND t.id = p_id AND t.status IN ('error', 'cancel') AND ${NOT_EXPIRED};
  IF NOT FOUND THEN RETURN false; END IF;
  DELETE FROM ${s}.items i WHERE i.queue = p_queue AND i.task_id = p_id;
  PERFORM pg_notify(p_channel, 'n');
  RETURN true;
END $$;

CREATE OR REPLACE FUNCTION ${s}.push_item(p_queue text, p_channel text, p_id text, p_item text) RETURNS int
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE v_idx int; v_msg text;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  SELECT coalesce(max(i.idx) + 1, 0) INTO v_idx FROM ${s}.items i WHERE i.queue = p_queue AND i.task_id = p_id;
  INSERT INTO ${s}.items (queue, task_id, idx, item) VALUES (p_queue, p_id, v_idx, p_item);
  v_msg := 'i[' || to_json(p_id)::text || ',' || v_idx || ',' || p_item || ']';
  IF octet_length(v_msg) > 7900 THEN v_msg := 'i[' || to_json(p_id)::text || ',' || v_idx || ']'; END IF;
  PERFORM pg_notify(p_channel, v_msg);
  RETURN v_idx;
END $$;

CREATE OR REPLACE FUNCTION ${s}.push_items(p_queue text, p_channel text, p_id text, p_items text[]) RETURNS int
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE v_idx int; v_item text; v_msg text;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  SELECT coalesce(max(i.idx) + 1, 0) INTO v_idx FROM ${s}.items i WHERE i.queue = p_queue AND i.task_id = p_id;
  FOREACH v_item IN ARRAY p_items LOOP
    INSERT INTO ${s}.items (queue, task_id, idx, item) VALUES (p_queue, p_id, v_idx, v_item);
    v_msg := 'i[' || to_json(p_id)::text || ',' || v_idx || ',' || v_item || ']';
    IF octet_length(v_msg) > 7900 THEN v_msg := 'i[' || to_json(p_id)::text || ',' || v_idx || ']'; END IF;
    PERFORM pg_notify(p_channel, v_msg);
    v_idx := v_idx + 1;
  END LOOP;
  RETURN v_idx - 1;
END $$;

-- state_add_members: whole numbers added to sets kept in state values as JSON arrays of numbers,
-- each once, in the order given (the stateAddMember calls of one tick); each set is read and
-- written once however many members it gains (a set of thousands is one TOASTed value: a write per
-- member rewrote it each time). Returns the set's size right after each add. It commits without
-- waiting for the WAL flush, as step does: a crash loses a suffix of the WAL, so an add lost with it
-- takes the later end of its task too, and the task runs (and adds itself) again.
CREATE OR REPLACE FUNCTION ${s}.state_add_members(p_queue text, p_states text[], p_keys text[], p_members text[]) RETURNS int[]
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE v_out int[] := array_fill(0, ARRAY[cardinality(p_members)]); g record; c record; v_val text; v_hay text; v_add text; v_n int;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  -- each set locked in one order (state, key), so that two calls never wait on each other in a cycle
  FOR g IN SELECT DISTINCT u.state, u.key FROM unnest(p_states, p_keys) AS u(state, key) ORDER BY 1, 2 LOOP
    INSERT INTO ${s}.state (queue, state, key, value) VALUES (p_queue, g.state, g.key, '[]') ON CONFLICT DO NOTHING;
    SELECT st.value INTO v_val FROM ${s}.state st WHERE st.queue = p_queue AND st.state = g.state AND st.key = g.key FOR UPDATE;
    -- a value that is not an array of whole numbers starts a new set
    IF v_val !~ '^\\[\\s*([0-9]+\\s*(,\\s*[0-9]+\\s*)*)?\\]$' THEN v_val := '[]'; END IF;
    v_hay := ',' || regexp_replace(btrim(v_val, '[] '), '\\s', '', 'g') || ',';
    v_n := CASE WHEN v_hay = ',,' THEN 0 ELSE length(v_hay) - length(replace(v_hay, ',', '')) - 1 END;
    IF v_n = 0 THEN v_hay := ','; END IF;
    v_add := '';
    FOR c IN SELECT u.m, u.o FROM unnest(p_states, p_keys, p_members) WITH ORDINALITY AS u(state, key, m, o)
             WHERE u.state = g.state AND u.key = g.key ORDER BY u.o LOOP
      IF position(',' || c.m || ',' IN v_hay) = 0 THEN
        v_hay := v_hay || c.m || ',';
        v_add := v_add || ',' || c.m;
        v_n := v_n + 1;
      END IF;
      v_out[c.o] := v_n;
    END LOOP;
    IF v_add <> '' THEN
      UPDATE ${s}.state st SET value = CASE WHEN btrim(v_val, '[] ') = '' THEN '[' || substr(v_add, 2) || ']' ELSE left(rtrim(v_val), -1) || v_add || ']' END
      WHERE st.queue = p_queue AND st.state = g.state AND st.key = g.key;
    END IF;
  END LOOP;
  RETURN v_out;
END $$;

CREATE OR REPLACE FUNCTION ${s}.rate_limit(p_queue text, p_key text, p_now bigint, p_max int, p_per bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE v_n int; v_min bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('qtasks.rate'), hashtext(p_queue || chr(1) || p_key));
  DELETE FROM ${s}.rate r WHERE r.queue = p_queue AND r.key = p_key AND r.at <= p_now - p_per;
  SELECT count(*), min(r.at) INTO v_n, v_min FROM ${s}.rate r WHERE r.queue = p_queue AND r.key = p_key;
  IF v_n < p_max THEN
    INSERT INTO ${s}.rate (queue, key, at) VALUES (p_queue, p_key, p_now);
    RETURN 0;
  END IF;
  RETURN greatest(1, v_min + p_per - p_now);
END $$;
`;
}
