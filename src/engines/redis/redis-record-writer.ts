/**
 * Record writes of the Redis storage for a broker of another engine (a RabbitMQ broker keeping its
 * records in Redis): insert, compare-and-set transitions and stream items, each one Lua script call,
 * atomic per record, keeping counts, the listing index, finished lists and retention (a drop at the
 * end, by count and by age: in the call that ends the task) as the Redis engine does.
 */

import type { RecordPatch, RecordWriter } from '../../engine/storage';
import type { Retention } from '../../task/retention';
import type { TaskRecord, TaskStatus } from '../../task/task-record';
import { toJson } from '../../task/json';
import { decodeRecord, encodeOpt, fixedJson } from './record-codec';
import { badRecord } from '../bad-record';
import type { RedisStorage } from './redis-storage';
import type { QueueKeys } from './queue-keys';
import { retentionArg } from './task-end';
import { itemChunks } from '../shared/item-chunks';

/** How many expired ids at most each transition call drops from the head of each finished list. */
const TRIM_BUDGET = 10;
/**
 * Transition calls in flight at most: changes asked meanwhile wait and leave together once one is
 * answered, so that batches grow with the load (one call per turn, each small, would leave Node and
 * Redis waiting on each other's wake-ups), while two keep both busy.
 */
const MAX_INFLIGHT = 2;

/** How each changing record field is kept in the task hash. */
const FIELDS: Record<string, { f: string; enc: (v: unknown) => string }> = {
  status: { f: 'st', enc: String },
  attempt: { f: 'att', enc: String },
  updatedAt: { f: 'up', enc: String },
  startedAt: { f: 'sa', enc: String },
  finishedAt: { f: 'fa', enc: String },
  workerId: { f: 'wid', enc: String },
  runAt: { f: 'run', enc: String },
  stalls: { f: 'stl', enc: String },
  priority: { f: 'pri', enc: String },
  progress: { f: 'prog', enc: (v) => JSON.stringify(v) },
  returning: { f: 'ret', enc: (v) => JSON.stringify(v) },
  error: { f: 'err', enc: (v) => JSON.stringify(v) },
  logs: { f: 'lg', enc: (v) => JSON.stringify(v) },
  /** The history of earlier attempts (what the engine keeps in `ah`). */
  attempts: { f: 'ah', enc: (v) => JSON.stringify(v) },
  cancelReason: { f: 'cr', enc: (v) => encodeOpt(v as string) },
};

/**
 * One change as the transitions script takes it: id, allowed statuses, retention, pairs to set,
 * fields to clear, and the end of the stored body (`d`) of the task the caller holds ('' for none).
 */
type Change = [string, string, string, string[], string[], string];

/**
 * `s` with each lone surrogate replaced by U+FFFD, as it would be stored had it been sent as an
 * argument of its own (Lua's JSON decoder refuses a lone surrogate's escape).
 */
function wellFormed(s: string): string {
  const t = s as unknown as { isWellFormed(): boolean; toWellFormed(): string };
  return t.isWellFormed() ? s : t.toWellFormed();
}

/** No field to clear (shared: most changes clear none). */
const NONE: string[] = [];

/** The text of each status list as the script takes it (`,new,delayed,`), made once per list. */
const allowedText = new WeakMap<readonly TaskStatus[], string>();

/** `from` as the script takes it; joined once for a list callers pass again (their constants). */
function allowedOf(from: readonly TaskStatus[]): string {
  let text = allowedText.get(from);
  if (text === undefined) allowedText.set(from, (text = ',' + from.join(',') + ','));
  return text;
}

/** A change waiting for the next batched script call. */
interface PendingChange {
  change: Change;
  id: string;
  /** The record the caller holds, whose fixed part the reply leaves out when it is the same task. */
  known: TaskRecord | undefined;
  resolve: (rec: TaskRecord | undefined) => void;
  reject: (err: Error) => void;
}

/** The {@link RecordWriter} of a {@link RedisStorage}. */
export class RedisRecordWriter implements RecordWriter {
  /** True once a broker of another engine queues this storage's tasks (see {@link attach}). */
  attached = false;

  constructor(private readonly s: RedisStorage) {}

  attach(): void {
    this.attached = true;
  }

  async insert(records: readonly TaskRecord[]): Promise<TaskRecord[]> {
    if (records.length === 0) return [];
    const s = this.s;
    const args: (string | number)[] = [];
    for (const r of records) {
      args.push(r.id, fixedJson(r), String(r.priority), r.status, r.runAt === undefined ? '' : String(r.runAt));
    }
    let res: (0 | string[])[];
    if (s.parts.length === 1) {
      const k = () => s.keys;
      res = (await s.call('insert', () => s.link.script('rwInsert')([k().all, k().seq, k().cnt], [k().task, ...args]))) as (0 | string[])[];
    } else {
      // a partitioned queue: one call per partition, each record on the partition of its id
      res = new Array(records.length);
      const groups = new Map<QueueKeys, number[]>();
      records.forEach((r, i) => {
        const k = s.keysOf(r.id);
        const g = groups.get(k);
        if (g === undefined) groups.set(k, [i]);
        else g.push(i);
      });
      await Promise.all(
        [...groups].map(async ([k, at]) => {
          const part = at.flatMap((i) => args.slice(i * 5, i * 5 + 5));
          const rows = (await s.call('insert', () => s.link.script('rwInsert')([k.all, k.seq, k.cnt], [k.task, ...part]))) as (0 | string[])[];
          at.forEach((i, j) => (res[i] = rows[j]));
        }),
      );
    }
    return records.map((r, i) => {
      const row = res[i];
      if (row === 0) return { ...r, args: [...r.args] };
      if (row.length === 2 && row[0] === 'st' && row[1] === '?') return badRecord(r.id, 'it is not a task hash');
      return decodeRecord(row, r.id) ?? badRecord(r.id, 'it vanished');
    });
  }

  /**
   * Changes asked in the same turn of the event loop go to Redis together, in one script call
   * (each still a compare-and-set of its own record, applied in the order asked); while
   * {@link MAX_INFLIGHT} calls wait for their answers, changes gather for the next call. With
   * `known`, the reply leaves the stored body (args and options) out when it ends with `known`'s
   * enqueue seq (the same task, not one removed and added again under its id): the record returned
   * takes them from `known`.
   */
  transition(id: string, from: readonly TaskStatus[], patch: RecordPatch, keep?: Retention, known?: TaskRecord): Promise<TaskRecord | undefined> {
    const s = this.s;
    const retention = retentionArg(keep);
    // the fields of a {@link Change} (the script sets `up` to its now unless the patch gives updatedAt)
    const set: string[] = [];
    let del: string[] = NONE;
    for (const key in patch) {
      const m = FIELDS[key];
      if (m === undefined) continue;
      const value = patch[key as keyof RecordPatch];
      if (value !== undefined) set.push(m.f, wellFormed(m.enc(key === 'returning' || key === 'progress' ? toJson(value, 'Task results', id, s.ctx.config) : value)));
      else if (del === NONE) del = [m.f];
      else del.push(m.f);
    }
    // the stored body ends with its seq (see rwInsert): `,"seq":N}`
    const tail = known !== undefined && known.id === id && Number.isSafeInteger(known.seq) ? ',"seq":' + known.seq + '}' : '';
    const change: Change = [wellFormed(id), allowedOf(from), retention, set, del, tail];
    const held = tail === '' ? undefined : known;
    return new Promise((resolve, reject) => {
      this.batch.push({ change, id, known: held, resolve, reject });
      this.schedule();
    });
  }

  private batch: PendingChange[] = [];
  /** Batches sent and not answered yet. */
  private inflight = 0;
  private scheduled = false;

  /** Sends the waiting changes at the end of this turn, or once a batch in flight is answered. */
  private schedule(): void {
    if (this.scheduled || this.batch.length === 0 || this.inflight >= MAX_INFLIGHT) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.inflight >= MAX_INFLIGHT || this.batch.length === 0) return;
    const s = this.s;
    const batch = this.batch;
    this.batch = [];
    this.inflight++;
    let calls: Promise<void>[];
    if (s.parts.length === 1) calls = [this.send(s.keys, batch)];
    else {
      // a partitioned queue: one call per partition
      const groups = new Map<QueueKeys, PendingChange[]>();
      for (const c of batch) {
        const k = s.keysOf(c.id);
        const g = groups.get(k);
        if (g === undefined) groups.set(k, [c]);
        else g.push(c);
      }
      calls = [...groups].map(([k, g]) => this.send(k, g));
    }
    const answered = (): void => {
      this.inflight--;
      // what was asked meanwhile, together with what the answered changes lead to in this turn
      this.schedule();
    };
    void Promise.all(calls).then(answered, answered);
  }

  /** One script call for `batch`; settles each change, never rejects. */
  private send(k: QueueKeys, batch: PendingChange[]): Promise<void> {
    const s = this.s;
    const args: (string | number)[] = [k.task, k.items, s.ctx.config.resultTtlMs, Date.now(), TRIM_BUDGET, JSON.stringify(batch.map((c) => c.change))];
    return s.call('transition', () => s.link.script('rwTransitions')([k.cnt, k.doneSuccess, k.doneError, k.doneCancel, k.all], args)).then(
      (res) => {
        let rows: unknown;
        try {
          rows = JSON.parse(res as string);
        } catch (err) {
          for (const c of batch) c.reject(err as Error);
          return;
        }
        batch.forEach((c, i) => {
          const row = Array.isArray(rows) ? (rows[i] as string[] | false | undefined) : undefined;
          c.resolve(row ? decodeRecord(row, c.id, c.known) : undefined);
        });
      },
      (err: Error) => {
        for (const c of batch) c.reject(err);
      },
    );
  }

  async appendItem(id: string, item: unknown): Promise<number> {
    const s = this.s;
    const json = JSON.stringify(toJson(item, 'Stream items', id, s.ctx.config)) ?? 'null';
    const k = s.keysOf(id);
    return Number(await s.call('item', () => s.link.script('rwItem')([k.items + id, k.task + id], [json])));
  }

  /** One script call per run of at most 1,000 items or about 4 MB (see `itemChunks`). */
  async appendItems(id: string, items: readonly unknown[]): Promise<number> {
    const s = this.s;
    // every item encoded (and checked) before any is stored
    const runs = itemChunks(items, (item) => JSON.stringify(toJson(item, 'Stream items', id, s.ctx.config)) ?? 'null');
    const k = s.keysOf(id);
    const keys = [k.items + id, k.task + id];
    let first = -1;
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i];
      const at = Number(await s.call('item', () => s.link.script('rwItem')(keys, run)));
      if (i === 0) first = at;
      if (at < 0) break;
    }
    return first;
  }
}
