/**
 * The Broker contract: it owns every state transition of a task (enqueue, claim, finish, retry,
 * cancel) and tells waiting handles and listeners when something happened. The core depends on
 * this class only; `memory-broker.ts` and `redis/` implement it.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCodes, QTasksError } from '../errors';
import type { TaskErrorInfo } from '../errors';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { TaskRecord } from '../task/task-record';
import type { Storage } from './storage';

/** A value or a promise of it; internal fast paths return plain values where they can. */
export type MaybePromise<T> = T | Promise<T>;

/** Events a broker reports to the app (and, with Redis, to every process of the queue). */
export interface EngineEventMap {
  'task:success': { record: TaskRecord };
  'task:error': { record: TaskRecord };
  'task:retry': { record: TaskRecord };
  'task:cancel': { record: TaskRecord };
  'task:progress': { id: string; name: string; progress: unknown };
}

/** What an app hands its broker and storage at start. */
export interface EngineContext {
  /** Queue (app) name. */
  queue: string;
  config: Config;
  logger: Logger;
  /** Fires an event in this process; the broker calls it once per event per process. */
  emit<K extends keyof EngineEventMap>(event: K, payload: EngineEventMap[K]): void;
  /** True when someone in this process listens to `event` (lets a broker skip work). */
  listens(event: keyof EngineEventMap): boolean;
}

/** How one attempt ended, as the worker reports it. */
export type Outcome =
  | { status: 'success'; returning: unknown }
  | { status: 'error'; error: TaskErrorInfo }
  | { status: 'cancel'; reason?: string }
  /** Failed with retries left: queue it again after `delayMs` (same id). */
  | { status: 'retry'; error: TaskErrorInfo; delayMs: number }
  /** Shutdown: give it back to the queue for another worker; the attempt does not count. */
  | { status: 'handback' };

/** Receives one streamed item of a task (see `watchItems`). */
export type StreamItemListener = (item: unknown, index: number) => void;
/** Receives the end of a watched stream: the final record, undefined for an unknown id, or an error. */
export type StreamEndListener = (record: TaskRecord | undefined, error?: Error) => void;

/** The worker side of `consume`: the broker hands it claimed tasks while it has free slots. */
export interface Consumer {
  readonly workerId: string;
  /** Free slots now. */
  capacity(): number;
  /** Runs a claimed task (status `process`, `attempt` already counted). */
  run(record: TaskRecord): void;
  /** Stops a running task of this consumer (a cancel from anywhere). */
  abort(id: string, reason?: string): void;
  /** What the manager shows of this worker. */
  info(): WorkerInfo;
  /** Applies an operator's command (pause, resume, stop, concurrency); optional. */
  control?(command: WorkerCommand): void;
}

/** An operator's command to one worker (`manager.pauseWorker` etc.), delivered by the broker. */
export type WorkerCommand =
  | { op: 'pause' }
  | { op: 'resume' }
  /** Graceful close of that worker's app (running tasks finish first). */
  | { op: 'stop' }
  | { op: 'concurrency'; n: number };

/** A live worker, as listed by the manager. */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  concurrency: number;
  running: number;
  lastSeenAt: number;
  /** True while the worker claims nothing new (`manager.pauseWorker`, or stopping). */
  paused?: boolean;
  /** Queues it consumes. */
  queues?: string[];
}

/** Moves tasks through their life. Implementations: {@link MemoryBroker}, `RedisBroker`. */
export abstract class Broker {
  /** The engine this broker belongs to (`'memory'`, `'redis'`, …). */
  abstract readonly engine: string;
  /**
   * Which storages this broker works with, checked when an app is made (see `checkPairing`):
   * `'own'` (the default): only a storage of its own engine (`storage.engine === broker.engine`),
   * whose internals it shares, so that a record and its queue change together; `'any'`: any
   * storage, through the Storage contract alone.
   */
  readonly storageNeeds: 'own' | 'any' = 'own';

  /** Connects; called once by the app before first use, with the storage it pairs with. */
  abstract init(ctx: EngineContext, storage: Storage): MaybePromise<void>;
  /** Disconnects; idempotent. Leaves queued tasks queued. */
  abstract close(): Promise<void>;

  /**
   * Stores and queues new tasks (status `new`, or `delayed` when `runAt` is in the future).
   * A record whose id exists already is not added again: the existing record is returned in its place.
   */
  abstract enqueue(records: TaskRecord[]): MaybePromise<TaskRecord[]>;

  /**
   * Enqueues inside the caller's open database transaction (`addTask(…, { transaction })`): the
   * tasks exist once it commits and never if it rolls back. Engines without transactions reject
   * with `QTASKS_ERR_UNSUPPORTED` (the default).
   */
  enqueueWith(_transaction: unknown, _records: TaskRecord[]): Promise<TaskRecord[]> {
    return Promise.reject(
      new QTasksError(ErrorCodes.UNSUPPORTED, `addTask option transaction: the ${this.constructor.name} engine has no transactions; use the PostgreSQL engine, or enqueue after your commit`),
    );
  }

  /** Starts handing claimed tasks to `consumer` while it has capacity. */
  abstract consume(consumer: Consumer): MaybePromise<void>;
  /** The consumer has free slots again (after a task ended outside `finish`). */
  abstract wake(): void;
  /** Stops claiming for `consumer`; tasks it runs stay claimed until finished. */
  abstract stopConsuming(): Promise<void>;

  /**
   * Records how an attempt of a claimed task ended, then notifies waiting handles and listeners.
   * Returns the record as stored (undefined when it vanished, e.g. removed meanwhile).
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
  abstract finish(record: TaskRecord, outcome: Outcome): MaybePromise<TaskRecord | undefined>;

  /**
   * Cancels a task: a queued or delayed one ends `cancel` and never runs; a running one has its
   * signal aborted wherever it runs. False when unknown or already finished.
   */
  abstract cancel(id: string, reason?: string): Promise<boolean>;

  /** Keeps `progress` on the record and emits `task:progress`. */
  abstract progress(record: TaskRecord, value: unknown): MaybePromise<void>;

  /** Appends one streamed item of a running task and notifies stream readers. */
  abstract pushItem(record: TaskRecord, item: unknown): MaybePromise<void>;

  /**
   * Resolves with the final record once the task ends (at once when it has ended), undefined when
   * the id is unknown. Rejects `QTASKS_ERR_RESULT_TIMEOUT` after `timeoutMs` when given.
   */
  abstract waitFinal(id: string, timeoutMs?: number): Promise<TaskRecord | undefined>;

  /**
   * Calls `onItem` for every streamed item from index `from` (those stored already first, then live)
   * and `onEnd` with the final record (undefined for an unknown id). Returns an unsubscribe function.
   */
  abstract watchItems(
    id: string,
    from: number,
    onItem: StreamItemListener,
    onEnd: StreamEndListener,
  ): () => void;

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
   * Delivers `command` to worker `workerId` wherever it runs (promptly: well under a second), which
   * applies it and reports its new state in `workers()`. Optional: an engine without it makes the
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
   * Someone in this process started listening to an engine event. A broker that only subscribes
   * to cross-process events while somebody listens subscribes now. Default: nothing to do.
   */
  /**
   * Calls `done` once with the final record (undefined for an unknown id) or the error `waitFinal`
   * would reject with. Engines may call it synchronously when the task has ended already; the
   * default goes through `waitFinal`. `hint` is the record `enqueue` returned for this id, which an
   * engine may use to skip a lookup.
   */
  whenFinal(
    id: string,
    timeoutMs: number | undefined,
    done: (record: TaskRecord | undefined, error?: Error) => void,
    _hint?: TaskRecord,
  ): void {
    this.waitFinal(id, timeoutMs).then(
      (rec) => done(rec),
      (err: Error) => done(undefined, err),
    );
  }

  /**
   * A new task id. The default is unique across processes (random per broker, then a counter);
   * an engine whose tasks never leave the process may use shorter ones.
   */
  newId(): string {
    return this.idPrefix + (++this.idSeq).toString(36);
  }

  private idSeq = 0;
  private readonly idPrefix = randomBytes(9).toString('base64url') + '-';

  listenersChanged(): void {
    // engines that deliver events in-process need no subscription
  }
}
