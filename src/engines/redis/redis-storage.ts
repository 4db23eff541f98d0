/**
 * Redis Storage: task records (a hash per task), streamed items, shared state and the manager's
 * queries. It owns the engine's connections; the {@link RedisBroker} it pairs with uses them too.
 */
import type { EngineContext } from '../../engine/broker';
import { ClosedError } from '../../errors';
import { toJson } from '../../task/json';
import type { TaskLogLine } from '../../task/task-history';
import { TASK_STATUSES, TaskRecord, TaskStatus } from '../../task/task-record';
import { CleanQuery, ListQuery, Storage } from '../../engine/storage';
import { QueueKeys } from './queue-keys';
import { decodeRecord } from './record-codec';
import { badRecord, decodeStateValue, decodeStateValues } from '../bad-record';
import { checkMember } from '../shared/state-member';
import { RedisConnectionInput, RedisLink } from './redis-link';
import { checkRedisConnection } from './check-connection';
import { RedisRecordWriter } from './redis-record-writer';
import { RedisStateBatch } from './state-batch';
import type { RedisEngineInput } from './redis-options';
import { partitionOf, partitionTags } from './partition-tags';
import type { PartitionScope } from './partition-scope';
import { cleanOver, countsOver, listOver, listPlan, rowRecord } from './partitioned-reads';

/** The suffix of the field beside a `stateAddMember` set that keeps its count (not a state value). */
const SET_COUNT = '\0#';

/** Keeps records and state in Redis; pairs with {@link RedisBroker}. */
export class RedisStorage extends Storage {
  readonly engine: string = 'redis';
  /** Record writes for a broker of another engine (a RabbitMQ broker keeping its records here). */
  readonly recordWriter: RedisRecordWriter = new RedisRecordWriter(this);
  /** @internal */
  link!: RedisLink;
  /**
   * @internal The queue's own keys: with one partition, the only ones; with several, its state,
   * locks, rate limits and channels (tasks live in {@link parts}).
   */
  keys!: QueueKeys;
  /** @internal The keys of each partition (`[keys]` for one partition). */
  parts!: QueueKeys[];
  /** @internal */
  ctx!: EngineContext;
  private closed = false;
  private readonly batch = new RedisStateBatch(this);
  private closing: Promise<void> | undefined;
  /** @internal told of removed tasks (the broker forgets what it noted about them). */
  onRemoved: ((ids: string[] | undefined) => void) | undefined;
  private initialised: () => void = () => undefined;
  /** Resolves at init (state stores may be used before their app connects). */
  private readonly whenInit = new Promise<void>((r) => (this.initialised = r));

  private readonly connection: RedisConnectionInput;
  /** Key prefix given to the engine (else the app's `config.prefix`). */
  private readonly prefix: string | undefined;

  constructor(private readonly input: RedisEngineInput) {
    super();
    if (typeof input === 'string') this.connection = input;
    else {
      const { prefix, ...rest } = input;
      this.prefix = prefix;
      this.connection = rest;
    }
    checkRedisConnection(this.connection);
  }

  async init(ctx: EngineContext): Promise<void> {
    if (this.closed) throw new ClosedError('RedisStorage used');
    if (this.link) return;
    this.ctx = ctx;
    const prefix = this.prefix ?? ctx.config.prefix;
    this.keys = new QueueKeys(prefix, ctx.queue);
    // the queue's partitions, from the app's queues option (checked there)
    const k = ctx.queueOptions?.partitions ?? 1;
    this.parts = k === 1 ? [this.keys] : partitionTags(ctx.queue, k).map((tag) => new QueueKeys(prefix, ctx.queue, tag));
    this.link = new RedisLink(this.connection, ctx.config.connectTimeoutMs);
    this.initialised();
    // the engine's list of queues (manager.queues()); a miss only hides this queue from other apps
    this.call('queues', (r) => r.sadd(this.queuesKey(), ctx.queue)).catch(() => undefined);
  }

  /** A storage (own connections, same settings) for another queue of the same app. */
  sibling(): RedisStorage {
    return new RedisStorage(this.input);
  }

  /** Every queue whose app connected to this Redis with this prefix. */
  async queueNames(): Promise<string[]> {
    return (await this.call('queues', (r) => r.smembers(this.queuesKey()))).sort();
  }

  /** The set of queue names (`<prefix>:queues`: one key, outside every queue's hash tag). */
  private queuesKey(): string {
    return (this.prefix ?? this.ctx.config.prefix) + ':queues';
  }

  close(): Promise<void> {
    // state calls of this tick are sent before the connections close
    if (!this.closed) this.batch.flush();
    this.closed = true;
    return (this.closing ??= this.link ? this.link.close() : Promise.resolve());
  }

  /** Partitions of the queue (`queues: { <name>: { partitions } }`, default 1). */
  get partitions(): number {
    return this.parts === undefined ? 1 : this.parts.length;
  }

  /** @internal The keys of the partition holding task `id`. */
  keysOf(id: string): QueueKeys {
    const parts = this.parts;
    return parts.length === 1 ? parts[0] : parts[partitionOf(id, parts.length)];
  }

  /** @internal Partition `i` as the worker side sees it (the storage itself for one partition). */
  scope(i: number): PartitionScope {
    if (this.parts.length === 1) return this;
    const keys = this.parts[i];
    const s = this;
    return {
      keys,
      get link() {
        return s.link;
      },
      ctx: this.ctx,
      call: (what, fn) => this.call(what, fn),
      get: (id) => this.get(id),
    };
  }

  /** Every key of this queue, all partitions (tests and tools use it to clean up). */
  async keysOfQueue(): Promise<string[]> {
    const bases = new Set([this.keys.base, ...this.parts.map((k) => k.base)]);
    const found = await Promise.all([...bases].map((b) => this.call('keys', (r) => r.keys(b.replace(/[*?[\]]/g, '\\$&') + '*'))));
    return found.flat();
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    let flat: string[];
    try {
      flat = await this.call('get', (r) => r.hgetall(this.keysOf(id).task + id).then(flatten));
    } catch (err) {
      // a key that is not a task hash: flagged, not thrown
      if (isWrongType(err)) return badRecord(id, 'it is not a task hash');
      throw err;
    }
    return decodeRecord(flat, id);
  }

  /**
   * Newest first, filtered and paged. The index is read in chunks of at most {@link LIST_CHUNK}
   * ids per script call (Redis is never blocked by one long scan) and records are decoded and
   * filtered here, so a page costs the records looked at, not the size of the queue; a record
   * that cannot be decoded is listed as a `QTASKS_ERR_BAD_RECORD` error record.
   */
  async list(query: ListQuery = {}): Promise<TaskRecord[]> {
    if (this.parts.length > 1) return listOver(this, query, LIST_CHUNK);
    const k = this.keys;
    await this.counts(); // drops expired records first
    const plan = listPlan(query);
    const { statuses, filtered, limit } = plan;
    let skip = plan.skip;
    const out: TaskRecord[] = [];
    let cursor = '+inf';
    while (out.length < limit) {
      const chunk = filtered ? LIST_CHUNK : Math.min(LIST_CHUNK, Math.max(16, skip + limit - out.length));
      const res = (await this.call('list', () => this.link.script('list')([k.all], [k.task, statuses, cursor, chunk]))) as (string | string[])[];
      for (let i = 1; i + 1 < res.length && out.length < limit; i += 2) {
        const id = res[i] as string;
        const row = res[i + 1] as string[];
        const rec = rowRecord(row, id);
        if (rec === undefined || !plan.keep(rec)) continue;
        if (skip > 0) skip--;
        else out.push(rec);
      }
      cursor = res[0] as string;
      if (cursor === '') break;
    }
    return out;
  }

  async counts(): Promise<Record<TaskStatus, number>> {
    if (this.parts.length > 1) return countsOver(this.parts.map((k) => this.countsOf(k)));
    return this.countsOf(this.keys);
  }

  /** @internal The counts of one partition. */
  async countsOf(k: QueueKeys): Promise<Record<TaskStatus, number>> {
    const row = (await this.call('counts', () =>
      this.link.script('counts')([k.cnt, k.doneSuccess, k.doneError, k.doneCancel, k.all], [k.task]),
    )) as number[];
    const out = {} as Record<TaskStatus, number>;
    for (const s of TASK_STATUSES) out[s] = Number(row[COUNT_ORDER.indexOf(s)] ?? 0);
    return out;
  }

  async remove(id: string): Promise<boolean> {
    this.onRemoved?.([id]);
    return (await this.removeScript('remove', '', [id], this.keysOf(id))) > 0;
  }

  async purge(status: TaskStatus): Promise<number> {
    // running and waiting tasks are live: cancel them instead
    if (status === 'process' || status === 'waiting') return 0;
    this.onRemoved?.(undefined);
    // queued by a broker of another engine: those records are in no Redis list, only in the index
    const elsewhere = this.recordWriter.attached && (status === 'new' || status === 'delayed' || status === 'retry') ? ['1'] : [];
    const removed = await Promise.all(this.parts.map((k) => this.removeScript('purge', status, elsewhere, k)));
    return removed.reduce((a, b) => a + b, 0);
  }

  async clean(query: CleanQuery): Promise<number> {
    this.onRemoved?.(undefined);
    const limit = query.limit ?? Number.MAX_SAFE_INTEGER;
    // a limit over several partitions: the oldest of the whole queue first
    if (this.parts.length > 1 && query.limit !== undefined) return cleanOver(this, query, limit);
    const removed = await Promise.all(this.parts.map((k) => this.cleanOf(k, query.finishedBefore, limit, query.statuses)));
    return removed.reduce((a, b) => a + b, 0);
  }

  /**
   * @internal Removes at most `limit` tasks of one partition that ended with one of `statuses` at
   * or before `finishedBefore`, oldest first; resolves how many were removed.
   */
  async cleanOf(k: QueueKeys, finishedBefore: number, limit: number, statuses: readonly string[]): Promise<number> {
    return Number(
      await this.call('clean', () => this.link.script('clean')([k.cnt, k.doneSuccess, k.doneError, k.doneCancel, k.all], [k.task, k.items, finishedBefore, limit, ...statuses])),
    );
  }

  async appendLog(id: string, line: TaskLogLine): Promise<void> {
    const max = this.ctx.config.maxLogLines;
    if (max <= 0) return;
    await this.call('log', () => this.link.script('log')([this.keysOf(id).task + id], [JSON.stringify(line), max]));
  }

  /** Stream items from index `from`; an item that cannot be decoded is skipped. */
  async items(id: string, from = 0): Promise<unknown[]> {
    return (await this.itemsAt(id, from)).map((e) => e.value);
  }

  /**
   * @internal Stream items from index `from` with their index (an item that cannot be decoded is
   * left out, the indexes of the others stay theirs).
   */
  async itemsAt(id: string, from = 0): Promise<{ index: number; value: unknown }[]> {
    let raw: string[];
    try {
      raw = await this.call('items', (r) => r.lrange(this.keysOf(id).items + id, from, -1));
    } catch (err) {
      if (isWrongType(err)) return [];
      throw err;
    }
    const out: { index: number; value: unknown }[] = [];
    for (let i = 0; i < raw.length; i++) {
      try {
        out.push({ index: from + i, value: JSON.parse(raw[i]) });
      } catch {
        // a corrupt item: skipped by every reader
      }
    }
    return out;
  }

  async stateGet(state: string, key: string): Promise<unknown> {
    if (this.closed) throw new ClosedError('state get');
    // the reads of one tick go in one HMGET (see RedisStateBatch)
    const v = await this.batch.get(state, key);
    return v === null ? undefined : decodeStateValue(state, key, v);
  }

  async stateSet(state: string, key: string, value: unknown): Promise<void> {
    const v = JSON.stringify(toJson(value, 'State values', key, this.ctx?.config));
    if (this.closed) throw new ClosedError('state set');
    // the sets of one tick go in one script call, a stateAddMember count kept beside a value with
    // it (lua/stateSet-1.lua; see RedisStateBatch)
    await this.batch.set(state, key, v ?? 'null');
  }

  async stateUpdate(state: string, key: string, fn: (value: unknown) => unknown): Promise<unknown> {
    this.batch.flush();
    const hash = this.keys.state(state);
    let current = await this.call('state update', (r) => r.hget(hash, key));
    for (;;) {
      const next = toJson(fn(current === null ? undefined : decodeStateValue(state, key, current)), 'State values', key, this.ctx?.config);
      const nextJson = JSON.stringify(next) ?? 'null';
      const res = (await this.call('state update', () => this.link.script('stateCas')([hash], [key, current ?? '', nextJson]))) as number | [number, string];
      if (res === 1) return next;
      const seen = (res as [number, string])[1];
      current = seen === '' ? null : seen;
    }
  }

  async stateIncr(state: string, key: string, by: number): Promise<number> {
    if (this.closed) throw new ClosedError('state incr');
    // the increments of one tick go in one script call (see RedisStateBatch)
    return Number(await this.batch.incr(state, key, by));
  }

  async stateAddMember(state: string, key: string, member: number): Promise<number> {
    checkMember(member);
    if (this.closed) throw new ClosedError('state add');
    // the adds of one tick go in one script call, each set read and written once (see RedisStateBatch)
    return this.batch.addMember(state, key, member);
  }

  stateDelete(state: string, key: string): Promise<boolean> {
    if (this.closed) return Promise.reject(new ClosedError('state delete'));
    // the deletes of one tick go in one script call, with the count a stateAddMember set keeps
    // beside a value (lua/stateDel-1.lua)
    return this.batch.del(state, key);
  }

  async stateAll(state: string): Promise<Record<string, unknown>> {
    this.batch.flush();
    const all = await this.call('state all', (r) => r.hgetall(this.keys.state(state)));
    return decodeStateValues(Object.entries(all).filter(([k]) => !k.endsWith(SET_COUNT)));
  }

  /** @internal a command with the engine's deadline. */
  call<T>(what: string, fn: (r: RedisLink['cmd']) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ClosedError(what));
    if (!this.link) return this.whenInit.then(() => this.link.call(what, fn));
    return this.link.call(what, fn);
  }

  private async removeScript(what: string, status: string, ids: string[], k: QueueKeys): Promise<number> {
    return Number(
      await this.call(what, () =>
        this.link.script('remove')([k.prios, k.delayed, k.cnt, k.doneSuccess, k.doneError, k.doneCancel, k.all], [k.task, k.items, k.wait, status, ...ids]),
      ),
    );
  }
}

/** Ids looked at per `list` script call at most. */
const LIST_CHUNK = 256;

/** True for a Redis WRONGTYPE reply (a key of the queue holds something else). */
function isWrongType(err: unknown): boolean {
  return err instanceof Error && /WRONGTYPE/.test(err.message);
}

/** The order of the counts script's reply. */
const COUNT_ORDER: TaskStatus[] = ['new', 'delayed', 'process', 'retry', 'success', 'error', 'cancel', 'waiting'];

/** HGETALL through `hgetall` gives an object; the codec takes the flat list. */
function flatten(obj: Record<string, string>): string[] {
  const out: string[] = [];
  for (const k in obj) out.push(k, obj[k]);
  return out;
}
