/**
 * Record writes of the PostgreSQL storage for a broker of another engine (a RabbitMQ broker keeping
 * its records in PostgreSQL): insert, compare-and-set transitions and stream items, each one
 * statement, atomic per row (an insert that meets an expired row of its id takes the id in a
 * second). Rows written this way wait nowhere in PostgreSQL (`q = 0`): the other engine's broker
 * queues their ids. A final status sets `expires_at` (`resultTtlMs`), as the engine does;
 * a retention sets it to {@link DROPPED} on the tasks it drops (the task itself for a drop at its end),
 * in the statement that ends the task; `sweep` deletes the rows whose `expires_at` passed, in the next range
 * of the table (see `sweepSql`; the engine's lease rounds do it there; no lease round runs for another broker).
 */
import type { RecordPatch, RecordWriter } from '../../engine/storage';
import type { Retention } from '../../task/retention';
import { toJson } from '../../task/json';
import { isFinal, TaskRecord, TaskStatus } from '../../task/task-record';
import { decodeRow, fixedJson, TaskRow } from './pg-codec';
import type { PostgresStorage } from './postgres-storage';
import { DROPPED, pastAgeSql, pastCountSql, RetentionSlots, sweepSql } from './pg-end-extras';
import { itemChunks } from '../shared/item-chunks';

const LIVE = '(expires_at IS NULL OR expires_at > $3)';

/** How each changing record field is kept in a row. */
const COLUMNS: Record<string, { c: string; enc: (v: unknown) => unknown; none?: unknown }> = {
  status: { c: 'status', enc: String },
  attempt: { c: 'attempt', enc: Number, none: 0 },
  updatedAt: { c: 'updated_at', enc: Number },
  startedAt: { c: 'started_at', enc: Number },
  finishedAt: { c: 'finished_at', enc: Number },
  workerId: { c: 'worker_id', enc: String },
  runAt: { c: 'run_at', enc: Number },
  stalls: { c: 'stalls', enc: Number, none: 0 },
  priority: { c: 'priority', enc: Number, none: 0 },
  progress: { c: 'progress', enc: (v) => JSON.stringify(v) },
  returning: { c: 'result', enc: (v) => JSON.stringify(v) },
  error: { c: 'error', enc: (v) => JSON.stringify(v) },
  logs: { c: 'logs', enc: (v) => JSON.stringify(v) },
  /** The history of earlier attempts. */
  attempts: { c: 'attempts', enc: (v) => JSON.stringify(v) },
  cancelReason: { c: 'cancel_reason', enc: String },
};

/** The {@link RecordWriter} of a {@link PostgresStorage}. */
export class PgRecordWriter implements RecordWriter {
  constructor(private readonly s: PostgresStorage) {}

  /**
   * All records in one statement (an `addTasks` of 1,000 is one round trip, not 1,000); an id that
   * exists already then goes on its own, as {@link insertOne} says.
   */
  async insert(records: readonly TaskRecord[]): Promise<TaskRecord[]> {
    if (records.length === 0) return [];
    const st = this.s;
    const res = await st.q<{ id: string }>(
      'insert',
      `INSERT INTO ${st.s}.tasks (queue, id, name, status, q, priority, run_at, attempt, data, created_at, updated_at)
       SELECT $1, u.id, u.name, u.status, 0, u.pri, u.run_at, u.att, u.data, u.created, u.created
       FROM unnest($2::text[], $3::text[], $4::text[], $5::float8[], $6::bigint[], $7::int[], $8::text[], $9::bigint[])
         WITH ORDINALITY AS u(id, name, status, pri, run_at, att, data, created, ord)
       ORDER BY u.ord
       ON CONFLICT (queue, id) DO NOTHING RETURNING id`,
      [
        st.ctx.queue,
        records.map((r) => r.id),
        records.map((r) => r.name),
        records.map((r) => r.status),
        records.map((r) => r.priority),
        records.map((r) => r.runAt ?? null),
        records.map((r) => r.attempt),
        records.map((r) => fixedJson(r)),
        records.map((r) => r.createdAt),
      ],
    );
    const inserted = new Set(res.rows.map((row) => row.id));
    const out: TaskRecord[] = [];
    for (const r of records) {
      // an id given twice in the call: the first is the one inserted
      if (inserted.delete(r.id)) out.push({ ...r, args: [...r.args] });
      else out.push(await this.insertOne(r));
    }
    return out;
  }

  /**
   * `r` whose id was taken: the id is free again when its row expired (no reader finds it), swept or
   * not: the row goes (its stream items with it) and the task is inserted, in one statement; the
   * delete locks the row, so of two adders one inserts and the other finds its row. Else the stored record.
   */
  private async insertOne(r: TaskRecord): Promise<TaskRecord> {
    const st = this.s;
    const insert = `INSERT INTO ${st.s}.tasks (queue, id, name, status, q, priority, run_at, attempt, data, created_at, updated_at)
      SELECT $1, $2, $3, $4, 0, $5, $6, $7, $8, $9, $9`;
    const params = [st.ctx.queue, r.id, r.name, r.status, r.priority, r.runAt ?? null, r.attempt, fixedJson(r), r.createdAt];
    const ins = await st.q<TaskRow>(
      'insert',
      `WITH gone AS (DELETE FROM ${st.s}.tasks WHERE queue = $1 AND id = $2 AND expires_at <= $9 RETURNING id)
       ${insert} WHERE NOT EXISTS (SELECT 1 FROM ${st.s}.tasks WHERE queue = $1 AND id = $2) OR EXISTS (SELECT 1 FROM gone)
       ON CONFLICT (queue, id) DO NOTHING RETURNING id`,
      params,
    );
    if (ins.rows.length > 0) return { ...r, args: [...r.args] };
    return (await st.get(r.id)) ?? { ...r, args: [...r.args] };
  }

  async transition(id: string, from: readonly TaskStatus[], patch: RecordPatch, keep?: Retention): Promise<TaskRecord | undefined> {
    const st = this.s;
    const now = Date.now();
    const full: RecordPatch = { updatedAt: now, ...patch };
    const params: unknown[] = [st.ctx.queue, id, now, [...from]];
    const sets: string[] = [];
    for (const [key, value] of Object.entries(full)) {
      const m = COLUMNS[key];
      if (m === undefined) continue;
      const v = value === undefined ? (m.none ?? null) : m.enc(key === 'returning' || key === 'progress' ? toJson(value, 'Task results', id, st.ctx.config) : value);
      params.push(v);
      sets.push(`${m.c} = $${params.length}`);
    }
    // the retention of an end to success or error
    const retain = full.status === 'success' || full.status === 'error' ? keep : undefined;
    if (full.status !== undefined) {
      // a task dropped at its end has expired already: no reader finds it final
      params.push(retain?.now ? DROPPED : isFinal(full.status) ? now + st.ctx.config.resultTtlMs : null);
      sets.push(`expires_at = $${params.length}`);
    }
    const t = `${st.s}.tasks`;
    let sql = `UPDATE ${t} SET ${sets.join(', ')} WHERE queue = $1 AND id = $2 AND ${LIVE} AND status = ANY($4) RETURNING *`;
    if (retain !== undefined && !retain.now && (retain.count !== undefined || retain.age !== undefined)) {
      // the retention of that end in the same statement, applied only when the task ended in it: to
      // the others of that end as the snapshot before the statement has them (this task ran then)
      params.push(full.status);
      const slots: RetentionSlots = { queue: '$1', now: '$3', status: `$${params.length}`, also: ' AND x.id <> $2 AND EXISTS (SELECT 1 FROM upd)' };
      const ctes = [`upd AS (${sql})`];
      if (retain.count !== undefined) {
        // this task is the newest of that end: one of the `count` kept
        params.push(retain.count - 1);
        ctes.push(`kc AS (${pastCountSql(t, slots, `$${params.length}`)})`);
      }
      if (retain.age !== undefined) {
        params.push(now - retain.age);
        ctes.push(`ka AS (${pastAgeSql(t, slots, `$${params.length}`)})`);
      }
      sql = `WITH ${ctes.join(', ')} SELECT * FROM upd`;
    }
    const r = await st.q<TaskRow>('transition', sql, params);
    if (r.rows.length === 0) return undefined;
    return decodeRow(r.rows[0]);
  }

  async sweep(): Promise<void> {
    const st = this.s;
    await st.q('sweep', sweepSql(st.s, '$1'), [Date.now()]);
  }

  async appendItem(id: string, item: unknown): Promise<number> {
    const st = this.s;
    const json = JSON.stringify(toJson(item, 'Stream items', id, st.ctx.config)) ?? 'null';
    const r = await st.q<{ idx: number }>(
      'item',
      `INSERT INTO ${st.s}.items (queue, task_id, idx, item)
       SELECT $1, $2, coalesce((SELECT max(i.idx) + 1 FROM ${st.s}.items i WHERE i.queue = $1 AND i.task_id = $2), 0), $3
       WHERE EXISTS (SELECT 1 FROM ${st.s}.tasks t WHERE t.queue = $1 AND t.id = $2) RETURNING idx`,
      [st.ctx.queue, id, json],
    );
    return r.rows.length === 0 ? -1 : Number(r.rows[0].idx);
  }

  /** One statement per run of at most 1,000 items or about 4 MB (see `itemChunks`). */
  async appendItems(id: string, items: readonly unknown[]): Promise<number> {
    const st = this.s;
    // every item encoded (and checked) before any is stored
    const runs = itemChunks(items, (item) => JSON.stringify(toJson(item, 'Stream items', id, st.ctx.config)) ?? 'null');
    let first = -1;
    for (let i = 0; i < runs.length; i++) {
      const r = await st.q<{ idx: number | null }>(
        'item',
        `WITH base AS (
           SELECT coalesce((SELECT max(i.idx) + 1 FROM ${st.s}.items i WHERE i.queue = $1 AND i.task_id = $2), 0) AS b
           WHERE EXISTS (SELECT 1 FROM ${st.s}.tasks t WHERE t.queue = $1 AND t.id = $2)),
         ins AS (INSERT INTO ${st.s}.items (queue, task_id, idx, item)
           SELECT $1, $2, base.b + u.n::int - 1, u.item FROM base, unnest($3::text[]) WITH ORDINALITY AS u(item, n) RETURNING idx)
         SELECT min(idx) AS idx FROM ins`,
        [st.ctx.queue, id, runs[i]],
      );
      const at = r.rows[0]?.idx;
      if (at === null || at === undefined) break;
      if (i === 0) first = Number(at);
    }
    return first;
  }
}
