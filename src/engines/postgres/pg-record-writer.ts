/**
 * Record writes of the PostgreSQL storage for a broker of another engine (a RabbitMQ broker keeping
 * its records in PostgreSQL): insert, compare-and-set transitions and stream items, each one
 * statement, atomic per row. Rows written this way wait nowhere in PostgreSQL (`q = 0`): the other
 * engine's broker queues their ids. A final status sets `expires_at` (`resultTtlMs`), as the engine does.
 */
import type { RecordPatch, RecordWriter } from '../../engine/storage';
import { toJson } from '../../task/json';
import { isFinal, TaskRecord, TaskStatus } from '../../task/task-record';
import { decodeRow, fixedJson, TaskRow } from './pg-codec';
import type { PostgresStorage } from './postgres-storage';

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

  async insert(records: readonly TaskRecord[]): Promise<TaskRecord[]> {
    const st = this.s;
    const out: TaskRecord[] = [];
    for (const r of records) {
      const ins = await st.q<TaskRow>(
        'insert',
        `INSERT INTO ${st.s}.tasks (queue, id, name, status, q, priority, run_at, attempt, data, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8, $9, $9) ON CONFLICT (queue, id) DO NOTHING RETURNING id`,
        [st.ctx.queue, r.id, r.name, r.status, r.priority, r.runAt ?? null, r.attempt, fixedJson(r), r.createdAt],
      );
      if (ins.rows.length > 0) out.push({ ...r, args: [...r.args] });
      else out.push((await st.get(r.id)) ?? { ...r, args: [...r.args] });
    }
    return out;
  }

  async transition(id: string, from: readonly TaskStatus[], patch: RecordPatch): Promise<TaskRecord | undefined> {
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
    if (full.status !== undefined) {
      params.push(isFinal(full.status) ? now + st.ctx.config.resultTtlMs : null);
      sets.push(`expires_at = $${params.length}`);
    }
    const r = await st.q<TaskRow>(
      'transition',
      `UPDATE ${st.s}.tasks SET ${sets.join(', ')} WHERE queue = $1 AND id = $2 AND ${LIVE} AND status = ANY($4) RETURNING *`,
      params,
    );
    return r.rows.length === 0 ? undefined : decodeRow(r.rows[0]);
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
}
