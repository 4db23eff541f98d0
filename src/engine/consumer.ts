/**
 * The worker side of the broker contract: what a consumer offers (`Consumer`), how an attempt
 * ended (`Outcome`) and what the manager lists of a worker (`WorkerInfo`).
 */
import type { TaskErrorInfo } from '../errors';
import type { TaskRecord } from '../task/task-record';

/** How one attempt ended, as the worker reports it to `finish`. */
export type Outcome =
  | { status: 'success'; returning: unknown }
  | { status: 'error'; error: TaskErrorInfo }
  | { status: 'cancel'; reason?: string }
  /** Failed with retries left: queue it again after `delayMs` (same id). */
  | { status: 'retry'; error: TaskErrorInfo; delayMs: number }
  /** Shutdown: give it back to the queue for another worker; the attempt does not count. */
  | { status: 'handback' };

/** The worker side of `consume`: the broker hands it claimed tasks while it has free slots. */
export interface Consumer {
  readonly workerId: string;
  /** Free slots now. */
  capacity(): number;
  /**
   * Runs a claimed task (status `process`, `attempt` already counted). The record is lent for the
   * attempt: the consumer reads it and hands the same object back to `finish`, `progress` and
   * `pushItem`; it never changes it (the broker may, e.g. `progress`).
   */
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
  /** Tasks of this worker waiting for their children (`waitChildren()`; they hold no slot). */
  waiting?: number;
  lastSeenAt: number;
  /** True while the worker claims nothing new (`manager.pauseWorker`, or stopping). */
  paused?: boolean;
  /** Queues it consumes. */
  queues?: string[];
}
