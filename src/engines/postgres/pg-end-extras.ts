/**
 * What the PostgreSQL engine writes after the `step` function recorded a batch of ends: the
 * history entry of each retried attempt, and the retention (`removeOnComplete` / `removeOnFail`)
 * of tasks that asked for one. Plain ends need none of it (no statement is sent). A record a
 * retention drops gets `expires_at = now`: invisible at once, deleted by the workers' sweep.
 */
import { Retention, retentionOf } from '../../task/retention';
import { retriedAttempt } from '../../task/task-history';
import type { PostgresStorage } from './postgres-storage';
import type { PendingEnd } from './task-end';

const LIVE = '(t.expires_at IS NULL OR t.expires_at > $2)';

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

/** Applies the retention of the ends in `applied` (after the step); undefined when none asks for one. */
export function retentionAfter(s: PostgresStorage, batch: PendingEnd[], applied: Set<string>, now: number): Promise<void> | undefined {
  const dropIds: string[] = [];
  const keep: [string, Retention][] = [];
  for (const e of batch) {
    if (!applied.has(e.rec.id) || (e.kind !== 's' && e.kind !== 'e')) continue;
    const r = retentionOf(e.kind === 's' ? e.rec.removeOnComplete : e.rec.removeOnFail);
    if (r === undefined) continue;
    if (r.now) dropIds.push(e.rec.id);
    else keep.push([e.kind === 's' ? 'success' : 'error', r]);
  }
  if (dropIds.length === 0 && keep.length === 0) return undefined;
  return write(s, now, dropIds, keep);
}

async function write(s: PostgresStorage, now: number, dropIds: string[], keep: [string, Retention][]): Promise<void> {
  const t = `${s.s}.tasks`;
  const queue = s.ctx.queue;
  if (dropIds.length > 0) await s.q('retention', `UPDATE ${t} t SET expires_at = $2 WHERE t.queue = $1 AND t.id = ANY($3)`, [queue, now, dropIds]);
  for (const [status, r] of keep) {
    if (r.count !== undefined) {
      await s.q(
        'retention',
        `UPDATE ${t} t SET expires_at = $2 WHERE (t.queue, t.id) IN (SELECT t.queue, t.id FROM ${t} t WHERE t.queue = $1 AND t.status = $3
           AND ${LIVE} ORDER BY t.finished_at DESC, t.seq DESC OFFSET $4)`,
        [queue, now, status, r.count],
      );
    }
    if (r.age !== undefined) {
      await s.q('retention', `UPDATE ${t} t SET expires_at = $2 WHERE t.queue = $1 AND t.status = $3 AND ${LIVE} AND t.finished_at < $4`, [
        queue,
        now,
        status,
        now - r.age,
      ]);
    }
  }
}
