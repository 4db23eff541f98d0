/**
 * The Storage contract: records, stream items, shared state and queries. Every read returns the
 * caller's own copy. A broker of the same engine writes records through that engine's internals;
 * a broker of another engine writes them through the optional {@link RecordWriter}.
 */
import type { Retention } from '../task/retention';
import type { TaskLogLine } from '../task/task-history';
import type { TaskRecord, TaskStatus } from '../task/task-record';
import type { EngineContext } from './engine-context';

/** Filter and page of `list`. Newest first by enqueue order. */
export interface ListQuery {
  status?: TaskStatus | TaskStatus[];
  name?: string;
  /** Only tasks created at or after this time (ms since epoch). */
  since?: number;
  /** Only tasks created before this time (ms since epoch). */
  until?: number;
  limit?: number;
  offset?: number;
}

/** A final status: what `clean` and retention act on. */
export type FinishedStatus = 'success' | 'error' | 'cancel';

/** What `clean` removes. */
export interface CleanQuery {
  /** Statuses to clean (final ones only). */
  statuses: FinishedStatus[];
  /** Only tasks that finished at or before this time (ms since epoch). */
  finishedBefore: number;
  /** Removes at most this many (default: every match). */
  limit?: number;
}

/** Fields a {@link RecordWriter.transition} sets; a field given as `undefined` is cleared. */
export type RecordPatch = Partial<Omit<TaskRecord, 'id' | 'name' | 'createdAt' | 'args'>>;

/**
 * Optional capability of a storage: record writes for a broker of another engine
 * (`storageNeeds: 'any'`), e.g. a RabbitMQ broker that moves task ids through AMQP queues and keeps
 * records, results, items and counts in a Redis or PostgreSQL storage. Each call is atomic on one
 * record; the storage keeps its counts, listing order, retention (`resultTtlMs` after
 * `finishedAt`) and `removeOnComplete` in step with every write. Records given are copied (the
 * caller keeps its own); records returned are the caller's copies.
 *
 * How such a broker uses it:
 * - enqueue: `insert(records)`, then publish only the ids that were new (an existing id returns
 *   the stored record instead, and is not published again);
 * - claim, when a message arrives: `transition(id, ['new', 'delayed', 'retry'], { status:
 *   'process', attempt, startedAt, workerId })`; undefined means it was cancelled or removed
 *   meanwhile: acknowledge the message and drop it;
 * - end of an attempt: `transition(id, ['process'], { status: 'success', returning, finishedAt })`
 *   (or `error` / `cancel` with `error` / `cancelReason`); a retry sets `status: 'retry'` and
 *   `runAt`, then republishes with that delay; a hand-back sets `status: 'new'` and `attempt - 1`;
 * - cancel of a task that is not running: `transition(id, ['new', 'delayed', 'retry'], { status:
 *   'cancel', cancelReason, finishedAt })`; its message is dropped at claim (the claim fails);
 * - a stall (a redelivery after a consumer was lost): `transition(id, ['process'], …)` counting
 *   `stalls`, and `error` with `QTASKS_ERR_STALLED` after `maxStalls`;
 * - progress and stream items: `transition(id, ['process'], { progress })`, `appendItem(id, item)`.
 * Waking `result()` / `stream()` readers and emitting events stay the broker's job.
 */
export interface RecordWriter {
  /** Adds new records (as given: status, times, options); an existing id keeps its record, returned in its place. */
  insert(records: readonly TaskRecord[]): Promise<TaskRecord[]>;
  /**
   * Applies `patch` when the record's status is one of `from` (compare-and-set; `updatedAt` is set
   * to now unless given). Returns the record as stored after the change, or undefined when the id
   * is unknown or in another status. `keep`, given with a change to `success` or `error`, is the
   * retention of that end (`retentionOf(removeOnComplete | removeOnFail)`), applied in the same
   * atomic write as the change, so that no reader finds the task ended before its retention: `now`
   * drops the task itself (the record returned is the one it ended with), `count` and `age` apply to
   * the queue's tasks of that status. `known`, optional, is the record as the caller holds it (the
   * claimed task): a storage may take the fields fixed at enqueue (args, options, `createdAt`,
   * `seq`) from it instead of reading them back, when its stored record is that same task.
   */
  transition(id: string, from: readonly TaskStatus[], patch: RecordPatch, keep?: Retention, known?: TaskRecord): Promise<TaskRecord | undefined>;
  /** Appends one streamed item of a task; returns its index, or -1 for an unknown id. */
  appendItem(id: string, item: unknown): Promise<number>;
  /**
   * Optional: appends several streamed items of a task, in order, in one write (a generator's
   * items yielded while the previous write was out); returns the index of the first, or -1 for an
   * unknown id (then none is stored). Without it a broker calls `appendItem` for each. An item
   * that is not JSON rejects the call before anything is stored.
   */
  appendItems?(id: string, items: readonly unknown[]): Promise<number>;
  /**
   * Optional: deletes what expired (records past `resultTtlMs` or dropped by retention) where the
   * storage cannot let them expire by themselves. A consuming broker calls it every `leaseMs / 2`.
   */
  sweep?(): Promise<void>;
  /**
   * Optional: the broker of another engine tells the storage at its `init` that it queues this
   * queue's tasks, so the queued records live only here: `purge` of a queued status (`new`,
   * `delayed`, `retry`) removes them here too (the broker drops their messages when delivered).
   */
  attach?(): void;
}

/** Keeps task records and shared state. Implementations: `MemoryStorage`, `RedisStorage`. */
export abstract class Storage {
  /** The engine this storage belongs to (`'memory'`, `'redis'`, …); brokers pair by it. */
  abstract readonly engine: string;

  /**
   * Optional capability: record writes for a broker of another engine (see {@link RecordWriter}).
   * A storage without it pairs only with brokers of its own engine.
   */
  readonly recordWriter?: RecordWriter;

  /**
   * Optional capability: a new, unconnected storage of the same engine and settings, for another
   * named queue of the same app (see `Broker.sibling`).
   */
  sibling?(): Storage;

  /**
   * Optional capability: the name of every queue this engine holds (queues whose apps connected,
   * with or without tasks), for `manager.queues()`. Without it the manager lists the queues its
   * app knows.
   */
  queueNames?(): Promise<string[]>;

  /** Connects (idempotent); called by the app before first use, before the broker's `init`. */
  abstract init(ctx: EngineContext): Promise<void>;
  /** Idempotent. */
  abstract close(): Promise<void>;

  /** A copy of the record, undefined when unknown or expired. */
  abstract get(id: string): Promise<TaskRecord | undefined>;
  /** Copies of the matching records, newest first. */
  abstract list(query?: ListQuery): Promise<TaskRecord[]>;
  abstract counts(): Promise<Record<TaskStatus, number>>;
  /** Removes a task that is not running. False when unknown or running. */
  abstract remove(id: string): Promise<boolean>;
  /** Removes every task in `status` (not `process`); returns how many. */
  abstract purge(status: TaskStatus): Promise<number>;
  /**
   * Removes finished tasks matching `query` (see {@link CleanQuery}); returns how many. Records are
   * matched by `finishedAt`, so an engine keeps its finished ids in finishing order where it can.
   */
  abstract clean(query: CleanQuery): Promise<number>;
  /**
   * Appends one `ctx.log()` line to the record of a task (a running one, usually), keeping only the
   * newest `config.maxLogLines` (none when 0). Nothing happens for an unknown id. The lines are
   * returned in `logs` by `get` and `list`, and stay, expire and go with the record.
   */
  abstract appendLog(id: string, line: TaskLogLine): Promise<void>;
  /** Streamed items of a task from index `from`. */
  abstract items(id: string, from?: number): Promise<unknown[]>;

  /** Shared state: value of `key` in state `state`. */
  abstract stateGet(state: string, key: string): Promise<unknown>;
  abstract stateSet(state: string, key: string, value: unknown): Promise<void>;
  /** Atomically replaces the value with `fn(value)`; `fn` may run more than once. Returns the new value. */
  abstract stateUpdate(state: string, key: string, fn: (value: unknown) => unknown): Promise<unknown>;
  /** Atomically adds `by` to a numeric value (missing counts as 0); returns the new value. */
  abstract stateIncr(state: string, key: string, by: number): Promise<number>;
  abstract stateDelete(state: string, key: string): Promise<boolean>;
  abstract stateAll(state: string): Promise<Record<string, unknown>>;

  /**
   * Optional capability: adds the whole number `member` to the set kept under `key` as a JSON array
   * of numbers (a missing value, or one that is not such an array, counts as empty), atomically and
   * once; resolves with how many members the set holds then. The same effect as `stateUpdate` with
   * a function that adds `member` when it is not there, in one step with no read-and-retry rounds
   * (a workflow group counts its ended members this way: without it, many members ending at once
   * retry each other's writes).
   */
  stateAddMember?(state: string, key: string, member: number): Promise<number>;
}
