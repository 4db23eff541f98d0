/**
 * Record writes of the PostgreSQL storage for a broker of another engine (a RabbitMQ broker keeping
 * its records in PostgreSQL): inserts (a batch in one statement), compare-and-set transitions (those
 * asked while statements are out go together, one statement per kind) and stream items, atomic per
 * row (an insert that meets an expired row of its id takes the id in a second statement). Rows written this way wait nowhere in PostgreSQL (`q = 0`): the other engine's broker
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
import { TickBatch } from '../shared/tick-batch';

const LIVE = '(expires_at IS NULL OR expires_at > $3)';
/** The columns an insert writes (the others keep their defaults). */
const INSERTED = '(queue, id, name, status, q, priority, run_at, attempt, data, created_at, updated_at)';

/** How each changing record field is kept in a row (`t`: its SQL type, for the arrays of a batched change). */
const COLUMNS: Record<string, { c: string; t: string; enc: (v: unknown) => unknown; none?: unknown }> = {
  status: { c: 'status', t: 'text', enc: String },
  attempt: { c: 'attempt', t: 'int', enc: Number, none: 0 },
  updatedAt: { c: 'updated_at', t: 'bigint', enc: Number },
  startedAt: { c: 'started_at', t: 'bigint', enc: Number },
  finishedAt: { c: 'finished_at', t: 'bigint', enc: Number },
  workerId: { c: 'worker_id', t: 'text', enc: String },
  runAt: { c: 'run_at', t: 'bigint', enc: Number },
  stalls: { c: 'stalls', t: 'int', enc: Number, none: 0 },
  priority: { c: 'priority', t: 'float8', enc: Number, none: 0 },
  progress: { c: 'progress', t: 'text', enc: (v) => JSON.stringify(v) },
  returning: { c: 'result', t: 'text', enc: (v) => JSON.stringify(v) },
  error: { c: 'error', t: 'text', enc: (v) => JSON.stringify(v) },
  logs: { c: 'logs', t: 'text', enc: (v) => JSON.stringify(v) },
  /** The history of earlier attempts. */
  attempts: { c: 'attempts', t: 'text', enc: (v) => JSON.stringify(v) },
  cancelReason: { c: 'cancel_reason', t: 'text', enc: String },
};

/**
 * Transition statements in flight at most: changes asked meanwhile wait and go together, so that
 * under load a statement (and its commit) carries many changes, while a few keep the pool busy.
 */
const MAX_INFLIGHT = 4;

/** A change for the next statement: its row, allowed statuses, columns and their values. */
interface Change {
  id: string;
  from: readonly TaskStatus[];
  /** The columns set, in one order for one kind of change (with `expires_at` last when set). */
  cols: string[];
  types: string[];
  vals: unknown[];
}

/** Changes in one statement at most. */
const CALL_SIZE = 1_000;

/**
 * The compare-and-set of row $2 of queue $1 (alive at $3, in one of the statuses $4), setting
 * `cols` to $5, $6, …; returns the row as changed.
 */
function oneRowUpdate(schema: string, cols: string[]): string {
  const sets = cols.map((c, i) => `${c} = $${i + 5}`);
  return `UPDATE ${schema}.tasks SET ${sets.join(', ')} WHERE queue = $1 AND id = $2 AND ${LIVE} AND status = ANY($4) RETURNING *`;
}

/** The {@link RecordWriter} of a {@link PostgresStorage}. */
export class PgRecordWriter implements RecordWriter {
  /**
   * The transitions waiting for a statement, by kind (allowed statuses and columns): each row once
   * per statement, and a row with a change out waits for it.
   */
  private readonly changes = new TickBatch<Change, TaskRecord | undefined>((_kind, g) => this.send(g), CALL_SIZE, MAX_INFLIGHT, (c) => c.id);

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
      `INSERT INTO ${st.s}.tasks ${INSERTED}
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
    const insert = `INSERT INTO ${st.s}.tasks ${INSERTED}
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

  /**
   * A compare-and-set of one row. Changes asked while {@link MAX_INFLIGHT} statements are out wait
   * and go together: those of one kind (the same columns and allowed statuses) in one statement and
   * one commit, each still applied to its own row only when that row is in one of its statuses. A
   * row changed again while a change of it is out waits for that one (the changes of a row apply in
   * the order asked). An end with a retention by count or age goes in a statement of its own.
   */
  transition(id: string, from: readonly TaskStatus[], patch: RecordPatch, keep?: Retention): Promise<TaskRecord | undefined> {
    const st = this.s;
    const now = Date.now();
    const full: RecordPatch = { updatedAt: now, ...patch };
    const cols: string[] = [];
    const types: string[] = [];
    const vals: unknown[] = [];
    try {
      for (const [key, value] of Object.entries(full)) {
        const m = COLUMNS[key];
        if (m === undefined) continue;
        vals.push(value === undefined ? (m.none ?? null) : m.enc(key === 'returning' || key === 'progress' ? toJson(value, 'Task results', id, st.ctx.config) : value));
        cols.push(m.c);
        types.push(m.t);
      }
    } catch (err) {
      return Promise.reject(err as Error);
    }
    // the retention of an end to success or error
    const retain = full.status === 'success' || full.status === 'error' ? keep : undefined;
    if (full.status !== undefined) {
      // a task dropped at its end has expired already: no reader finds it final
      vals.push(retain?.now ? DROPPED : isFinal(full.status) ? now + st.ctx.config.resultTtlMs : null);
      cols.push('expires_at');
      types.push('bigint');
    }
    if (retain !== undefined && !retain.now && (retain.count !== undefined || retain.age !== undefined)) {
      return this.transitionRetained(id, from, cols, vals, full.status!, retain, now);
    }
    return this.changes.add(from.join(',') + '|' + cols.join(','), { id, from, cols, types, vals });
  }

  /** One statement for changes of one kind on distinct rows: the row of each as stored after it, undefined where it did not apply. */
  private async send(g: Change[]): Promise<(TaskRecord | undefined)[]> {
    const st = this.s;
    const first = g[0];
    let rows: TaskRow[];
    if (g.length === 1) {
      const r = await st.q<TaskRow>('transition', oneRowUpdate(st.s, first.cols), [st.ctx.queue, first.id, Date.now(), [...first.from], ...first.vals]);
      rows = r.rows;
    } else {
      // `id = ANY` as well as the join: the rows are found by the primary key, whatever the
      // planner knows of the table (a new table has no statistics)
      const sets = first.cols.map((c, i) => `${c} = u.c${i}`);
      const arrays = first.cols.map((_, i) => `$${i + 5}::${first.types[i]}[]`);
      const names = first.cols.map((_, i) => `c${i}`);
      const r = await st.q<TaskRow>(
        'transition',
        `UPDATE ${st.s}.tasks AS x SET ${sets.join(', ')}
         FROM unnest($2::text[], ${arrays.join(', ')}) AS u(id, ${names.join(', ')})
         WHERE x.queue = $1 AND x.id = ANY($2::text[]) AND x.id = u.id AND ${LIVE} AND x.status = ANY($4) RETURNING x.*`,
        [st.ctx.queue, g.map((c) => c.id), Date.now(), [...first.from], ...first.cols.map((_, i) => g.map((c) => c.vals[i]))],
      );
      rows = r.rows;
    }
    const byId = new Map<string, TaskRow>();
    for (const row of rows) byId.set(row.id, row);
    return g.map((c) => {
      const row = byId.get(c.id);
      return row === undefined ? undefined : decodeRow(row);
    });
  }

  /** An end with a retention by count or age: the end and the retention in one statement. */
  private async transitionRetained(id: string, from: readonly TaskStatus[], cols: string[], vals: unknown[], status: TaskStatus, retain: Retention, now: number): Promise<TaskRecord | undefined> {
    const st = this.s;
    const params: unknown[] = [st.ctx.queue, id, now, [...from], ...vals];
    const t = `${st.s}.tasks`;
    // the retention of that end in the same statement, applied only when the task ended in it: to
    // the others of that end as the snapshot before the statement has them (this task ran then)
    params.push(status);
    const slots: RetentionSlots = { queue: '$1', now: '$3', status: `$${params.length}`, also: ' AND x.id <> $2 AND EXISTS (SELECT 1 FROM upd)' };
    const ctes = [`upd AS (${oneRowUpdate(st.s, cols)})`];
    if (retain.count !== undefined) {
      // this task is the newest of that end: one of the `count` kept
      params.push(retain.count - 1);
      ctes.push(`kc AS (${pastCountSql(t, slots, `$${params.length}`)})`);
    }
    if (retain.age !== undefined) {
      params.push(now - retain.age);
      ctes.push(`ka AS (${pastAgeSql(t, slots, `$${params.length}`)})`);
    }
    const r = await st.q<TaskRow>('transition', `WITH ${ctes.join(', ')} SELECT * FROM upd`, params);
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
