/**
 * PostgreSQL Broker: every transition is one SQL function call (see `functions-sql.ts`). Enqueues
 * of one tick are coalesced into one call; `addTask(…, { transaction })` runs the same call on the
 * caller's client, so the task exists only if that transaction commits. The worker side lives in
 * {@link PgConsumerLoop}; results, items and events arrive through {@link PgNotifier}.
 */
import type { PoolClient } from 'pg';
import { Broker, Consumer, EngineContext, Outcome, StreamEndListener, StreamItemListener, WorkerCommand, WorkerInfo } from '../../engine/broker';
import { ClosedError, ErrorCodes, QTasksError } from '../../errors';
import type { TaskRecord } from '../../task/task-record';
import { decodeRow, fixedJson, TaskRow } from './pg-codec';
import { ClaimAlong, PgConsumerLoop, StepRow } from './pg-consumer-loop';
import { PgNotifier } from './pg-notifier';
import { PostgresStorage } from './postgres-storage';
import { itemChunks } from '../shared/item-chunks';

interface PendingEnqueue {
  records: TaskRecord[];
  resolve: (r: TaskRecord[]) => void;
  reject: (e: Error) => void;
}

/** Largest number of tasks sent in one enqueue call. */
const ENQUEUE_CHUNK = 2_000;

/** Anything with `query(text, params)`: a pg Client or PoolClient inside the caller's transaction. */
export type TransactionClient = Pick<PoolClient, 'query'>;

/** Ignores the error of an item of a task removed while it ran (its items go with it). */
function removedWhileRunning(err: { code?: string }): void {
  if (err.code !== '23503') throw err;
}

/** Moves tasks through their life in PostgreSQL; pairs with {@link PostgresStorage}. */
export class PostgresBroker extends Broker {
  readonly engine = 'postgres';

  /** A broker for another queue of the same app (paired with the storage's sibling). */
  sibling(): PostgresBroker {
    return new PostgresBroker();
  }

  private storage!: PostgresStorage;
  private ctx!: EngineContext;
  private notifier!: PgNotifier;
  private loop: PgConsumerLoop | undefined;
  private pending: PendingEnqueue[] = [];
  private pendingCount = 0;
  private flushScheduled = false;
  private readonly flushFn = () => this.flush();
  private closed = false;
  private closing: Promise<void> | undefined;

  async init(ctx: EngineContext): Promise<void> {
    if (this.closed) throw new ClosedError('PostgresBroker used');
    if (this.notifier) return;
    // paired at construction: a broker that needs its own engine's storage gets a PostgreSQL one
    const storage = ctx.storage as PostgresStorage;
    await storage.init(ctx);
    this.ctx = ctx;
    this.storage = storage;
    this.notifier = new PgNotifier(storage, ctx);
    this.notifier.hooks = {
      queued: (due) => this.loop?.queued(due),
      cancel: (id, wid, reason, long) => this.onCancel(id, wid, reason, long),
      isLocal: (wid) => this.loop !== undefined && this.loop.workerId === wid,
      command: (wid, command) => {
        if (this.loop !== undefined && this.loop.workerId === wid) this.loop.control(command);
      },
    };
    storage.onRemoved = (ids) => this.notifier.forget(ids);
    // listen before the first enqueue so that no end of this app's tasks is missed; a database that
    // is down delays this at most connectTimeoutMs (operations then fail on their own)
    const listening = this.notifier.start();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([listening.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ctx.config.connectTimeoutMs)))]);
    clearTimeout(timer);
  }

  /** An end-event listener was added here: workers elsewhere are told to send whole records. */
  listenersChanged(): void {
    this.notifier?.announce();
  }

  close(): Promise<void> {
    return (this.closing ??= this.doClose());
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    if (this.loop) await this.loop.close();
    this.notifier?.close();
    const left = this.pending;
    this.pending = [];
    for (const p of left) p.reject(new ClosedError('addTask'));
  }

  enqueue(records: TaskRecord[]): Promise<TaskRecord[]> {
    if (this.closed) return Promise.reject(new ClosedError('addTask'));
    return new Promise((resolve, reject) => {
      this.pending.push({ records, resolve, reject });
      this.pendingCount += records.length;
      if (this.pendingCount >= ENQUEUE_CHUNK) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(this.flushFn);
      }
    });
  }

  /** Enqueues inside the caller's open transaction: visible at its COMMIT, gone on ROLLBACK. */
  async enqueueWith(transaction: unknown, records: TaskRecord[]): Promise<TaskRecord[]> {
    if (this.closed) throw new ClosedError('addTask');
    const client = transaction as TransactionClient;
    if (client === null || typeof client !== 'object' || typeof client.query !== 'function') {
      throw new QTasksError(ErrorCodes.BAD_OPTION, 'addTask options: transaction must be a pg client inside an open transaction (after BEGIN)');
    }
    await this.storage.link.ready();
    const [sql, params] = this.enqueueCall(records);
    const res = await client.query<TaskRow>(sql, params);
    return this.matchExisting(records, res.rows);
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.pendingCount = 0;
    const records: TaskRecord[] = [];
    for (const p of batch) for (const r of p.records) records.push(r);
    const ids = records.map((r) => r.id);
    const noted = this.notifier.noteEnqueued(ids);
    // an idle worker of this process claims in the same call (no second round trip, no notification)
    const loop = this.loop;
    const along = loop?.claimAlong();
    const [sql, params] = this.enqueueCall(records, along);
    this.storage.q<TaskRow & StepRow>('addTask', sql, params).then(
      (res) => {
        let rows: TaskRow[] = res.rows;
        if (along !== undefined) {
          rows = [];
          for (const row of res.rows) if (row.k === 'e') rows.push(JSON.parse(row.data) as TaskRow);
          loop!.alongAnswered(along, res.rows);
        }
        const stored = this.matchExisting(records, rows);
        let i = 0;
        for (const p of batch) {
          const out = stored.slice(i, i + p.records.length);
          for (let j = 0; j < out.length; j++) if (out[j] !== p.records[j] && noted) this.notifier.forget([p.records[j].id]);
          i += p.records.length;
          p.resolve(out);
        }
        // an idle worker of this process claims at once, without waiting for the notification
        if (along === undefined) this.loop?.queued(undefined);
      },
      (err: Error) => {
        if (along !== undefined) loop!.alongAnswered(along, undefined);
        if (noted) this.notifier.forget(ids);
        for (const p of batch) p.reject(err);
      },
    );
  }

  /** The enqueue call of `records`; with `along`, `enqueue_claim` for the worker of this process. */
  private enqueueCall(records: TaskRecord[], along?: ClaimAlong): [string, unknown[]] {
    const n = records.length;
    const ids = new Array<string>(n);
    const names = new Array<string>(n);
    const pri = new Array<number>(n);
    const runAt = new Array<number | null>(n);
    const data = new Array<string>(n);
    const created = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const r = records[i];
      ids[i] = r.id;
      names[i] = r.name;
      pri[i] = r.priority;
      runAt[i] = r.status === 'delayed' && r.runAt !== undefined ? r.runAt : null;
      data[i] = fixedJson(r);
      created[i] = r.createdAt;
    }
    const s = this.storage;
    const args: unknown[] = [this.ctx.queue, s.channel, ids, names, pri, runAt, data, created];
    if (along === undefined) return [`SELECT * FROM ${s.s}.enqueue($1, $2, $3, $4, $5, $6, $7, $8)`, args];
    args.push(this.loop!.workerId, along.now, along.lease, along.want);
    return [`SELECT * FROM ${s.s}.enqueue_claim($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, args];
  }

  /** The stored record of each task: its own, or the one that existed with its id. */
  private matchExisting(records: TaskRecord[], rows: TaskRow[]): TaskRecord[] {
    if (rows.length === 0 && new Set(records.map((r) => r.id)).size === records.length) return records;
    const existing = new Map<string, TaskRecord>();
    for (const row of rows) existing.set(row.id, decodeRow(row));
    const first = new Map<string, TaskRecord>();
    return records.map((r) => {
      const e = existing.get(r.id) ?? first.get(r.id);
      if (e !== undefined) return e;
      first.set(r.id, r);
      return r;
    });
  }

  async consume(consumer: Consumer): Promise<void> {
    if (this.closed) throw new ClosedError('Worker started');
    if (this.loop) return;
    // cancel requests arrive on the channel: fail here rather than run deaf
    await this.storage.link.ready();
    this.loop = new PgConsumerLoop(this.storage, consumer, this.ctx.config.concurrency, this.notifier);
    // listed in workers() once start() returns
    await this.loop.start();
  }

  wake(): void {
    this.loop?.wake();
  }

  async stopConsuming(): Promise<void> {
    await this.loop?.stop();
  }

  finish(record: TaskRecord, outcome: Outcome): Promise<TaskRecord | undefined> {
    if (!this.loop) return Promise.resolve(undefined);
    return this.loop.finish(record, outcome);
  }

  private onCancel(id: string, workerId: string, reason: string | undefined, long: boolean): void {
    const loop = this.loop;
    if (loop === undefined || loop.workerId !== workerId) return;
    if (!long) return loop.onCancel(id, workerId, reason);
    const s = this.storage;
    s.q<{ r: string | null }>('cancel', `SELECT cancel_req AS r FROM ${s.s}.tasks WHERE queue = $1 AND id = $2`, [this.ctx.queue, id]).then(
      (res) => loop.onCancel(id, workerId, res.rows[0]?.r?.startsWith('=') ? res.rows[0].r.slice(1) : undefined),
      () => loop.onCancel(id, workerId, undefined),
    );
  }

  async cancel(id: string, reason?: string): Promise<boolean> {
    const s = this.storage;
    const cfg = this.ctx.config;
    const res = await s.q<{ r: number }>('cancel', `SELECT ${s.s}.cancel($1, $2, $3, $4, $5, $6) AS r`, [this.ctx.queue, s.channel, id, reason ?? null, Date.now(), cfg.resultTtlMs]);
    return res.rows[0].r > 0;
  }

  async release(id: string): Promise<boolean> {
    const s = this.storage;
    const res = await s.q(
      'release',
      `WITH u AS (UPDATE ${s.s}.tasks t SET status = 'new', q = 1, run_at = NULL, updated_at = $3
         WHERE t.queue = $1 AND t.id = $2 AND t.status = 'waiting' AND t.worker_id IS NULL RETURNING 1)
       SELECT pg_notify($4, 'n') FROM u`,
      [this.ctx.queue, id, Date.now(), s.channel],
    );
    return res.rowCount === 1;
  }

  async setWaiting(record: TaskRecord, waiting: boolean): Promise<boolean> {
    const s = this.storage;
    const [from, to] = waiting ? ['process', 'waiting'] : ['waiting', 'process'];
    const res = await s.q(
      'waitChildren',
      `UPDATE ${s.s}.tasks t SET status = $3, updated_at = $5 WHERE t.queue = $1 AND t.id = $2 AND t.status = $4 AND t.worker_id = $6`,
      [this.ctx.queue, record.id, to, from, Date.now(), record.workerId ?? ''],
    );
    if (res.rowCount !== 1) return false;
    record.status = to as TaskRecord['status'];
    return true;
  }

  async progress(record: TaskRecord, value: unknown): Promise<void> {
    record.progress = value;
    const s = this.storage;
    const json = JSON.stringify(value) ?? 'null';
    let msg = 'p' + JSON.stringify({ id: record.id, name: record.name, progress: value });
    if (msg.length > 2_300 && Buffer.byteLength(msg) > 7_900) msg = '';
    await s.q(
      'progress',
      `WITH u AS (UPDATE ${s.s}.tasks t SET progress = $3, updated_at = $4 WHERE t.queue = $1 AND t.id = $2 RETURNING 1)
       SELECT pg_notify($5, $6) FROM u WHERE $6 <> ''`,
      [this.ctx.queue, record.id, json, Date.now(), s.channel, msg],
    );
  }

  async pushItem(record: TaskRecord, item: unknown): Promise<void> {
    const s = this.storage;
    await s
      .q('stream item', `SELECT ${s.s}.push_item($1, $2, $3, $4)`, [this.ctx.queue, s.channel, record.id, JSON.stringify(item) ?? 'null'])
      .catch(removedWhileRunning);
  }

  /** Items in one statement, in statements of at most 1,000 items or about 4 MB (see `itemChunks`). */
  async pushItems(record: TaskRecord, items: unknown[]): Promise<void> {
    const s = this.storage;
    for (const json of itemChunks(items)) {
      await s.q('stream item', `SELECT ${s.s}.push_items($1, $2, $3, $4)`, [this.ctx.queue, s.channel, record.id, json]).catch(removedWhileRunning);
    }
  }

  waitFinal(id: string, timeoutMs?: number): Promise<TaskRecord | undefined> {
    if (this.closed) return Promise.reject(new ClosedError('result()'));
    return this.notifier.waitFinal(id, timeoutMs);
  }

  watchItems(id: string, from: number, onItem: StreamItemListener, onEnd: StreamEndListener): () => void {
    return this.notifier.watchItems(id, from, onItem, onEnd);
  }

  async retry(id: string): Promise<boolean> {
    this.notifier.forget([id]);
    const s = this.storage;
    const res = await s.q<{ r: boolean }>('retry', `SELECT ${s.s}.retry($1, $2, $3, $4) AS r`, [this.ctx.queue, s.channel, id, Date.now()]);
    return res.rows[0].r;
  }

  async pause(): Promise<void> {
    await this.setPaused(true);
  }

  async resume(): Promise<void> {
    await this.setPaused(false);
  }

  private async setPaused(paused: boolean): Promise<void> {
    const s = this.storage;
    await s.q(
      paused ? 'pause' : 'resume',
      `SELECT ${s.s}.set_paused($1, $2, $3)`,
      [this.ctx.queue, s.channel, paused],
    );
  }

  async isPaused(): Promise<boolean> {
    const s = this.storage;
    const res = await s.q<{ paused: boolean }>('isPaused', `SELECT paused FROM ${s.s}.queues WHERE queue = $1`, [this.ctx.queue]);
    return res.rows[0]?.paused === true;
  }

  async workers(): Promise<WorkerInfo[]> {
    const s = this.storage;
    const since = Date.now() - Math.floor(this.ctx.config.leaseMs * 1.5);
    const res = await s.q<{ info: string; last_seen: string }>('workers', `SELECT info, last_seen FROM ${s.s}.workers WHERE queue = $1 AND last_seen >= $2 ORDER BY id`, [this.ctx.queue, since]);
    const out: WorkerInfo[] = [];
    for (const row of res.rows) {
      try {
        out.push({ ...(JSON.parse(row.info) as WorkerInfo), lastSeenAt: Number(row.last_seen) });
      } catch {
        // a heartbeat that does not decode is left out; the rest are listed
      }
    }
    return out;
  }

  async controlWorker(workerId: string, command: WorkerCommand): Promise<void> {
    const s = this.storage;
    await s.q('controlWorker', 'SELECT pg_notify($1, $2)', [s.channel, 'w' + JSON.stringify([workerId, command])]);
  }

  async tryLock(key: string, ttlMs: number): Promise<boolean> {
    const s = this.storage;
    const now = Date.now();
    const res = await s.q(
      'tryLock',
      `INSERT INTO ${s.s}.locks AS l (queue, key, until) VALUES ($1, $2, $3) ON CONFLICT (queue, key) DO UPDATE SET until = EXCLUDED.until WHERE l.until <= $4 RETURNING 1`,
      [this.ctx.queue, key, now + Math.max(1, Math.ceil(ttlMs)), now],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async rateLimit(key: string, max: number, perMs: number): Promise<number> {
    const s = this.storage;
    const res = await s.q<{ w: string }>('rateLimit', `SELECT ${s.s}.rate_limit($1, $2, $3, $4, $5) AS w`, [this.ctx.queue, key, Date.now(), max, perMs]);
    return Number(res.rows[0].w);
  }
}
