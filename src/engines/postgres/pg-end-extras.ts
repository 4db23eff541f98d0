/**
 * What the PostgreSQL engine writes besides the `step` function's record of a batch of ends: the
 * history entry of each retried attempt (before the step; plain ends send no statement), and the
 * statements of a retention (`removeOnComplete` / `removeOnFail`), which the step (`step_keep`) and
 * the storage's transitions run in the transaction that ends the task. A record a retention drops
 * gets `expires_at` {@link DROPPED}: invisible at once, deleted by the workers' sweep.
 */
import { retriedAttempt } from '../../task/task-history';
import type { PostgresStorage } from './postgres-storage';
import type { PendingEnd } from './task-end';

/**
 * Writes the history entry of each retried attempt of `batch`, before the `step` that records the
 * ends: the task is still held by this worker then, so that no claim skips its row while the entry
 * is written (`SKIP LOCKED`). Undefined when the batch has no retry.
 */
export function historyBefore(s: PostgresStorage, batch: PendingEnd[], now: number): Promise<void> | undefined {
  const max = s.ctx.config.maxAttemptHistory;
  if (max <= 0) return undefined;
  const ids: string[] = [];
  const entries: string[] = [];
  for (const e of batch) {
    if (e.kind !== 'r' || e.rec.error === undefined) continue;
    ids.push(e.rec.id);
    entries.push(JSON.stringify(retriedAttempt(e.rec, e.rec.error, now)));
  }
  if (ids.length === 0) return undefined;
  return s
    .q(
      'attempt history',
      `UPDATE ${s.s}.tasks t SET attempts = (SELECT jsonb_agg(a.e ORDER BY a.n)::text FROM (
         SELECT x.e, x.n FROM jsonb_array_elements(coalesce(t.attempts::jsonb, '[]'::jsonb) || jsonb_build_array(u.entry::jsonb))
           WITH ORDINALITY AS x(e, n) ORDER BY x.n DESC LIMIT $4) a)
       FROM unnest($2::text[], $3::text[]) AS u(id, entry) WHERE t.queue = $1 AND t.id = u.id AND t.status = 'process'`,
      [s.ctx.queue, ids, entries, max],
    )
    .then(() => undefined);
}

/**
 * The `expires_at` of a record dropped by a retention: past for every reader, whatever the time it
 * reads at (a reader whose clock is behind, or that took its time before the drop, would still find
 * a record that expires at the time of the drop).
 */
export const DROPPED = 0;

/** How many heap blocks of `tasks` (8 kB each) one sweep looks through. */
export const SWEEP_BLOCKS = 1024;

/**
 * The sweep of schema `s` (already quoted): deletes (at most 2000 per statement) the rows of every
 * queue whose `expires_at` passed by `now`, skipping rows locked by a transition under way. It looks
 * through one range of {@link SWEEP_BLOCKS} blocks of the table (a TID range scan), the next one
 * each time any worker sweeps (`sweep_seq`), round the table: no index is kept on `expires_at`, so
 * the end of a task writes no entry for its expiry. An expired row is invisible to every reader
 * before it is deleted. Run by the engine's lease rounds, and by `PgRecordWriter.sweep` for a broker
 * of another engine.
 */
export function sweepSql(s: string, now: string): string {
  const range = `(nextval('${s}.sweep_seq') % greatest(1, ceil(pg_relation_size('${s}.tasks') / (${SWEEP_BLOCKS} * current_setting('block_size')::float8))::bigint)) * ${SWEEP_BLOCKS}`;
  return `WITH r AS MATERIALIZED (SELECT ${range} AS b)
    DELETE FROM ${s}.tasks t WHERE t.ctid = ANY(ARRAY(SELECT x.ctid FROM ${s}.tasks x
      WHERE x.ctid >= (SELECT format('(%s,0)', r.b)::tid FROM r) AND x.ctid < (SELECT format('(%s,0)', r.b + ${SWEEP_BLOCKS})::tid FROM r)
        AND x.expires_at < ${now} LIMIT 2000 FOR UPDATE SKIP LOCKED))`;
}

/**
 * Where a retention statement finds its values (placeholders such as `$1`): the queue, now (which
 * records are live), the status of that end, and `also`, a condition on the candidate row `x` (e.g.
 * leaving a task out).
 */
export interface RetentionSlots {
  queue: string;
  now: string;
  status: string;
  also?: string;
}

/** The statement that drops, of the queue's live tasks in that status, all but the newest `offset` (by `finished_at`, then enqueue order). */
export function pastCountSql(t: string, p: RetentionSlots, offset: string): string {
  return `UPDATE ${t} t SET expires_at = ${DROPPED} WHERE (t.queue, t.id) IN (SELECT x.queue, x.id FROM ${t} x WHERE x.queue = ${p.queue}
    AND x.status = ${p.status} AND (x.expires_at IS NULL OR x.expires_at > ${p.now})${p.also ?? ''} ORDER BY x.finished_at DESC, x.seq DESC OFFSET ${offset})`;
}

/** The statement that drops the queue's live tasks in that status that finished before `cut`. */
export function pastAgeSql(t: string, p: RetentionSlots, cut: string): string {
  return `UPDATE ${t} x SET expires_at = ${DROPPED} WHERE x.queue = ${p.queue} AND x.status = ${p.status}
    AND (x.expires_at IS NULL OR x.expires_at > ${p.now})${p.also ?? ''} AND x.finished_at < ${cut}`;
}
