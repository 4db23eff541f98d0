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
import { badRecord } from '../bad-record';
import { RedisConnectionInput, RedisLink } from './redis-link';
import { checkRedisConnection } from './check-connection';
import { RedisRecordWriter } from './redis-record-writer';
import type { RedisEngineInput } from './redis-options';

/** Keeps records and state in Redis; pairs with {@link RedisBroker}. */
export class RedisStorage extends Storage {
  readonly engine: string = 'redis';
  /** Record writes for a broker of another engine (a RabbitMQ broker keeping its records here). */
  readonly recordWriter: RedisRecordWriter = new RedisRecordWriter(this);
  /** @internal */
  link!: RedisLink;
  /** @internal */
  keys!: QueueKeys;
  /** @internal */
  ctx!: EngineContext;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** @internal told of removed tasks (the broker forgets what it noted about them). */
  onRemoved: ((ids: string[] | undefined) => void) | undefined;
  private initialised: () => void = () => undefined;
  /** Resolves at init (state stores may be used before their app connects). */
  private readonly whenInit = new Promise<void>((r) => (this.initialised = r));

  private readonly connection: RedisConnectionInput;
  /** Key prefix given to the engine (else the app's `config.prefix`). */
  private readonly prefix: string | undefined;

  constructor(input: RedisEngineInput) {
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
    this.keys = new QueueKeys(this.prefix ?? ctx.config.prefix, ctx.queue);
    this.link = new RedisLink(this.connection, ctx.config.connectTimeoutMs);
    this.initialised();
  }

  close(): Promise<void> {
    this.closed = true;
    return (this.closing ??= this.link ? this.link.close() : Promise.resolve());
  }

  /** Every key of this queue (tests and tools use it to clean up). */
  async keysOfQueue(): Promise<string[]> {
    return this.call('keys', (r) => r.keys(this.keys.base.replace(/[*?[\]]/g, '\\$&') + '*'));
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    let flat: string[];
    try {
      flat = await this.call('get', (r) => r.hgetall(this.keys.task + id).then(flatten));
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
    const k = this.keys;
    await this.counts(); // drops expired records first
    const wanted = query.status === undefined ? undefined : new Set<string>(Array.isArray(query.status) ? query.status : [query.status]);
    const statuses = wanted === undefined ? '' : [...wanted].join(',');
    const filtered = wanted !== undefined || query.name !== undefined || query.since !== undefined || query.until !== undefined;
    let skip = Math.max(0, query.offset ?? 0);
    const limit = query.limit === undefined ? Infinity : Math.max(0, query.limit);
    const out: TaskRecord[] = [];
    let cursor = '+inf';
    while (out.length < limit) {
      const chunk = filtered ? LIST_CHUNK : Math.min(LIST_CHUNK, Math.max(16, skip + limit - out.length));
      const res = (await this.call('list', () => this.link.script('list')([k.all], [k.task, statuses, cursor, chunk]))) as (string | string[])[];
      for (let i = 1; i + 1 < res.length && out.length < limit; i += 2) {
        const id = res[i] as string;
        const row = res[i + 1] as string[];
        const rec = row.length === 2 && row[0] === 'st' && row[1] === '?' ? badRecord(id, 'it is not a task hash') : decodeRecord(row, id);
        if (rec === undefined) continue;
        if (wanted !== undefined && !wanted.has(rec.status)) continue;
        if (query.name !== undefined && rec.name !== query.name) continue;
        if (query.since !== undefined && !(rec.createdAt >= query.since)) continue;
        if (query.until !== undefined && !(rec.createdAt < query.until)) continue;
        if (skip > 0) skip--;
        else out.push(rec);
      }
      cursor = res[0] as string;
      if (cursor === '') break;
    }
    return out;
  }

  async counts(): Promise<Record<TaskStatus, number>> {
    const k = this.keys;
    const row = (await this.call('counts', () =>
      this.link.script('counts')([k.cnt, k.doneSuccess, k.doneError, k.doneCancel, k.all], [k.task]),
    )) as number[];
    const out = {} as Record<TaskStatus, number>;
    for (const s of TASK_STATUSES) out[s] = Number(row[COUNT_ORDER.indexOf(s)] ?? 0);
    return out;
  }

  async remove(id: string): Promise<boolean> {
    this.onRemoved?.([id]);
    return (await this.removeScript('remove', '', [id])) > 0;
  }

  async purge(status: TaskStatus): Promise<number> {
    if (status === 'process') return 0;
    this.onRemoved?.(undefined);
    return this.removeScript('purge', status, []);
  }

  async clean(query: CleanQuery): Promise<number> {
    const k = this.keys;
    this.onRemoved?.(undefined);
    const limit = query.limit ?? Number.MAX_SAFE_INTEGER;
    return Number(
      await this.call('clean', () =>
        this.link.script('clean')([k.cnt, k.doneSuccess, k.doneError, k.doneCancel, k.all], [k.task, k.items, query.finishedBefore, limit, ...query.statuses]),
      ),
    );
  }

  async appendLog(id: string, line: TaskLogLine): Promise<void> {
    const max = this.ctx.config.maxLogLines;
    if (max <= 0) return;
    await this.call('log', () => this.link.script('log')([this.keys.task + id], [JSON.stringify(line), max]));
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
      raw = await this.call('items', (r) => r.lrange(this.keys.items + id, from, -1));
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
    const v = await this.call('state get', (r) => r.hget(this.keys.state(state), key));
    return v === null ? undefined : JSON.parse(v);
  }

  async stateSet(state: string, key: string, value: unknown): Promise<void> {
    const v = JSON.stringify(toJson(value, 'State values', key, this.ctx?.config));
    await this.call('state set', (r) => r.hset(this.keys.state(state), key, v ?? 'null'));
  }

  async stateUpdate(state: string, key: string, fn: (value: unknown) => unknown): Promise<unknown> {
    const hash = this.keys.state(state);
    let current = await this.call('state update', (r) => r.hget(hash, key));
    for (;;) {
      const next = toJson(fn(current === null ? undefined : JSON.parse(current)), 'State values', key, this.ctx?.config);
      const nextJson = JSON.stringify(next) ?? 'null';
      const res = (await this.call('state update', () => this.link.script('stateCas')([hash], [key, current ?? '', nextJson]))) as number | [number, string];
      if (res === 1) return next;
      const seen = (res as [number, string])[1];
      current = seen === '' ? null : seen;
    }
  }

  async stateIncr(state: string, key: string, by: number): Promise<number> {
    const v = await this.call('state incr', () => this.link.script('stateIncr')([this.keys.state(state)], [key, by]));
    return Number(v);
  }

  async stateDelete(state: string, key: string): Promise<boolean> {
    return (await this.call('state delete', (r) => r.hdel(this.keys.state(state), key))) > 0;
  }

  async stateAll(state: string): Promise<Record<string, unknown>> {
    const all = await this.call('state all', (r) => r.hgetall(this.keys.state(state)));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(all)) out[k] = JSON.parse(v);
    return out;
  }

  /** @internal a command with the engine's deadline. */
  call<T>(what: string, fn: (r: RedisLink['cmd']) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ClosedError(what));
    if (!this.link) return this.whenInit.then(() => this.link.call(what, fn));
    return this.link.call(what, fn);
  }

  private async removeScript(what: string, status: string, ids: string[]): Promise<number> {
    const k = this.keys;
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
const COUNT_ORDER: TaskStatus[] = ['new', 'delayed', 'process', 'retry', 'success', 'error', 'cancel'];

/** HGETALL through `hgetall` gives an object; the codec takes the flat list. */
function flatten(obj: Record<string, string>): string[] {
  const out: string[] = [];
  for (const k in obj) out.push(k, obj[k]);
  return out;
}
