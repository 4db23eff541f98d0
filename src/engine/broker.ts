/**
 * The Broker contract: it owns every state transition of a task (enqueue, claim, finish, retry,
 * cancel) and tells waiting handles and listeners when something happened. The core depends on
 * this contract only and never learns which engine it has.
 *
 * **Who owns a record.** Records cross the contract in four ways, each with one rule:
 * - *given* to the broker (`enqueue`): the broker takes them; the caller never touches them again.
 * - *lent* to a consumer (`Consumer.run`): the consumer reads it for the attempt and hands the very
 *   same object back (`finish`, `progress`, `pushItem`); `finish` takes it back, after which the
 *   consumer drops it. The broker may change it meanwhile (e.g. `progress`).
 * - *handed out* as a view (what `enqueue`, `finish` and `whenFinal`/`waitFinal` return): read-only
 *   for the caller, and it may be the engine's own stored object (the memory engine's is), so it
 *   may change later: read what you need at once, copy to keep.
 * - *given* to the app (event payloads, `watchItems`' end record, everything a `Storage` read
 *   returns): the receiver's own copy.
 *
 * **Optional capabilities** (`immediate`, `finishThen`, `whenFinal`, `newId`, `listenersChanged`, `controlWorker`, `sibling`, `setWaiting`, `release`, `pushItems`) are fast paths
 * or hints an engine may offer; the core checks for them and works without them.
 */
import { ErrorCodes, QTasksError } from '../errors';
import type { TaskRecord } from '../task/task-record';
import type { Consumer, Outcome, WorkerCommand, WorkerInfo } from './consumer';
import type { EngineContext } from './engine-context';

export type { Consumer, Outcome, WorkerCommand, WorkerInfo } from './consumer';
export type { EngineContext, EngineEventMap } from './engine-context';

/** A value or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** Receives one streamed item of a task (see `watchItems`). */
export type StreamItemListener = (item: unknown, index: number) => void;
/** Receives the end of a watched stream: the final record, undefined for an unknown id, or an error. */
export type StreamEndListener = (record: TaskRecord | undefined, error?: Error) => void;

/**
 * Optional capability of a broker that works inside this process: the hot operations done at once,
 * without a promise. When a broker offers it, the core calls these instead of their async twins
 * (same effects, same ownership rules, errors thrown instead of rejected).
 */
export interface ImmediateBroker {
  /** `enqueue`, done now. */
  enqueueNow(records: TaskRecord[]): TaskRecord[];
  /** `enqueue` of one record, done now. */
  enqueueOneNow(record: TaskRecord): TaskRecord;
  /**
   * Optional: enqueues a new task due now with no option but its priority, under an id of its
   * own making (`newId`), done now: what `enqueueOneNow` does with the record `addTask` would
   * build, without building it. `args` are the caller's copy, kept as they are. Returns the stored
   * record (a view, as `enqueueOneNow` gives).
   */
  enqueueNewNow?(name: string, args: unknown[], priority: number, createdAt: number): TaskRecord;
  /**
   * `finish`, done now. `at` is when the attempt ended, when the caller has just read the clock
   * (one clock read per end instead of one per layer; reading it is not free everywhere).
   */
  finishNow(record: TaskRecord, outcome: Outcome, at?: number): TaskRecord | undefined;
  /** `pushItem`, done now. */
  pushItemNow(record: TaskRecord, item: unknown): void;
  /**
   * The final record of `id` when the task has ended already (a view, as `whenFinal` gives), else
   * undefined; `hint` as for `whenFinal`.
   */
  finalNow(id: string, hint?: TaskRecord): TaskRecord | undefined;
}

/** Moves tasks through their life. Implementations: `MemoryBroker`, `RedisBroker`. */
export abstract class Broker {
  /** The engine this broker belongs to (`'memory'`, `'redis'`, …). */
  abstract readonly engine: string;
  /**
   * Which storages this broker works with, checked when an app is made (see `checkPairing`):
   * `'own'` (the default): only a storage of its own engine (`storage.engine === broker.engine`),
   * whose internals it shares, so that a record and its queue change together; `'any'`: any
   * storage that offers record writes (`storage.records`), through the Storage contract alone —
   * e.g. a RabbitMQ broker keeping its records in a Redis or PostgreSQL storage.
   */
  readonly storageNeeds: 'own' | 'any' = 'own';

  /** Optional capability: the hot operations without promises (see {@link ImmediateBroker}). */
  readonly immediate?: ImmediateBroker;

  /** Connects; called once by the app before first use, after `ctx.storage.init(ctx)`. */
  abstract init(ctx: EngineContext): Promise<void>;
  /** Disconnects; idempotent. Leaves queued tasks queued. */
  abstract close(): Promise<void>;

  /**
   * Stores and queues new tasks (status `new`, or `delayed` when `runAt` is in the future). Takes
   * the records. A record whose id exists already is not added again: the existing record is
   * returned in its place. Returns views (see the header), in the order given.
   */
  abstract enqueue(records: TaskRecord[]): Promise<TaskRecord[]>;

  /**
   * Enqueues inside the caller's open database transaction (`addTask(…, { transaction })`): the
   * tasks exist once it commits and never if it rolls back. Engines without transactions reject
   * with `QTASKS_ERR_UNSUPPORTED` (the default).
   */
  enqueueWith(_transaction: unknown, _records: TaskRecord[]): Promise<TaskRecord[]> {
    return Promise.reject(
      new QTasksError(ErrorCodes.UNSUPPORTED, `addTask option transaction: the ${this.engine} engine has no transactions; use the PostgreSQL engine, or enqueue after your commit`),
    );
  }

  /** Starts handing claimed tasks to `consumer` while it has capacity. */
  abstract consume(consumer: Consumer): Promise<void>;
  /** The consumer has free slots again (after a task ended outside `finish`). */
  abstract wake(): void;
  /** Stops claiming for `consumer`; tasks it runs stay claimed until finished. */
  abstract stopConsuming(): Promise<void>;

  /**
   * Records how an attempt of a claimed task ended, then notifies waiting handles and listeners.
   * Takes back the record lent to the consumer. Returns a view of the record as stored (undefined
   * when it vanished, e.g. removed meanwhile).
   *
   * Besides the status, an engine keeps in the same write:
   * - a `retry` outcome's attempt in the record's history (`retriedAttempt(record, error, now)`
   *   from `task/task-history`, the newest `config.maxAttemptHistory` kept); storage reads then
   *   give `attempts` as `attemptsOf(record, history)`;
   * - retention (`retentionOf(record.removeOnComplete)` for `success`, `removeOnFail` for `error`,
   *   from `task/retention`): `now` drops the record once waiting handles and listeners have it;
   *   `count` keeps the queue's newest `count` tasks of that status; `age` drops those of that
   *   status that finished more than `age` ms ago.
   */
  abstract finish(record: TaskRecord, outcome: Outcome): Promise<TaskRecord | undefined>;

  /**
   * Optional capability: `finish` settled through callbacks instead of a promise, for a worker that
   * records every end it runs (no promise, closure or reaction per end). Exactly one of `done`
   * (with what `finish` resolves with) and `failed` (with what it rejects with) is called, once;
   * same effects and ownership rules as `finish`.
   */
  finishThen?(record: TaskRecord, outcome: Outcome, done: (stored: TaskRecord | undefined) => void, failed: (err: Error) => void): void;

  /**
   * Optional capability: marks a claimed task of this worker as waiting for its children
   * (`waiting: true`: status `waiting`, its worker slot given back) or running again (`false`:
   * status `process`). The task stays claimed by its worker and keeps its lease: a cancel reaches
   * its worker as for a running task, and when its worker dies it is queued again like any stalled
   * task. Resolves false when the task is not in the expected status (ended, removed, reclaimed).
   * Without it a waiting task keeps the status `process`.
   */
  setWaiting?(record: TaskRecord, waiting: boolean): Promise<boolean>;

  /**
   * Optional capability: queues a task stored `waiting` that no worker holds (a flow's parent,
   * written through the storage's `recordWriter` with status `waiting` when the flow started, once
   * its children ended): status `new`, due now. False when the task is not such a task (unknown,
   * cancelled meanwhile, already queued). A cancel of such a task ends it `cancel` at once. Without
   * it a flow's parent is enqueued only once its children ended.
   */
  release?(id: string): Promise<boolean>;

  /**
   * Cancels a task: a queued or delayed one ends `cancel` and never runs; a running one has its
   * signal aborted wherever it runs. False when unknown or already finished.
   */
  abstract cancel(id: string, reason?: string): Promise<boolean>;

  /** Keeps `progress` on the (lent) record and in the store, and emits `task:progress`. */
  abstract progress(record: TaskRecord, value: unknown): Promise<void>;

  /** Appends one streamed item of a running task and notifies stream readers. */
  abstract pushItem(record: TaskRecord, item: unknown): Promise<void>;

  /**
   * Optional capability: appends several streamed items of a running task, in order, in one step:
   * the same effects as `pushItem` for each, one after another. The core has at most one
   * `pushItem`/`pushItems` call of an attempt out at a time, and sends the items a generator yields
   * while one is out together in the next.
   */
  pushItems?(record: TaskRecord, items: unknown[]): Promise<void>;

  /**
   * Resolves with a view of the final record once the task ends (at once when it has ended),
   * undefined when the id is unknown. Rejects `QTASKS_ERR_RESULT_TIMEOUT` after `timeoutMs`.
   */
  abstract waitFinal(id: string, timeoutMs?: number): Promise<TaskRecord | undefined>;

  /**
   * Optional capability: `waitFinal` as a callback, which an engine may call synchronously when the
   * task has ended already. `hint` is the view `enqueue` returned for this id (an engine may use it
   * to skip a lookup). Without it the core goes through `waitFinal`.
   */
  whenFinal?(id: string, timeoutMs: number | undefined, done: (record: TaskRecord | undefined, error?: Error) => void, hint?: TaskRecord): void;

  /**
   * Calls `onItem` for every streamed item from index `from` (those stored already first, then live)
   * and `onEnd` with the final record (undefined for an unknown id). Returns an unsubscribe function.
   */
  abstract watchItems(id: string, from: number, onItem: StreamItemListener, onEnd: StreamEndListener): () => void;

  /** Queues an `error` or `cancel` task again (same id, attempt reset). False otherwise. */
  abstract retry(id: string): Promise<boolean>;
  /** Workers stop claiming from the queue (running work finishes). */
  abstract pause(): Promise<void>;
  /** Workers go on claiming. */
  abstract resume(): Promise<void>;
  /** True while the queue is paused. */
  abstract isPaused(): Promise<boolean>;
  /** Live workers of the queue. */
  abstract workers(): Promise<WorkerInfo[]>;

  /**
   * Optional capability: delivers `command` to worker `workerId` wherever it runs (promptly: well
   * under a second), which applies it and reports its new state in `workers()`. Without it the
   * manager's worker commands reject `QTASKS_ERR_UNSUPPORTED`.
   */
  controlWorker?(workerId: string, command: WorkerCommand): Promise<void>;

  /**
   * Takes the lock `key` for `ttlMs` if nobody holds it; true when taken. Used so that a timer
   * tick enqueues once across processes (the lock is never released early: it marks the tick done).
   */
  abstract tryLock(key: string, ttlMs: number): Promise<boolean>;

  /**
   * Sliding-window rate limit shared by every worker of the queue: records one start under `key`
   * and returns 0 when fewer than `max` starts happened in the last `perMs`; otherwise records
   * nothing and returns the ms to wait before trying again.
   */
  abstract rateLimit(key: string, max: number, perMs: number): Promise<number>;

  /**
   * Optional capability: a new task id. Without it the core makes ids unique across processes (a
   * random prefix per process, then a counter); an engine whose tasks never leave the process may
   * use shorter ones.
   */
  newId?(): string;

  /**
   * Optional capability: a new, unconnected broker of the same engine and settings, for another
   * named queue of the same app (the app pairs it with its storage's `sibling()` and inits both
   * with that queue's context). Without it an app uses one queue: a second one (the `queues`
   * option, `@Task({ queue })`, `opts.queue`) rejects `QTASKS_ERR_UNSUPPORTED`.
   */
  sibling?(): Broker;

  /**
   * Optional capability: someone in this process started listening to an engine event. A broker
   * that subscribes to cross-process events only while somebody listens subscribes now.
   */
  listenersChanged?(): void;
}
