/**
 * What a running task knows about itself: `TaskContext` (a class, so it is a DI token) and the
 * `TaskSelf` handle an `echo` task receives.
 */
import type { Broker } from '../engine/broker';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Storage } from '../engine/storage';
import type { AddTaskFn } from './task-map';
import type { WaitChildrenOptions } from '../worker/wait-children';

/** Adds a task from inside a task; the new task's `parentId` is the caller's id. */
export type { AddTaskFn };

/** The context of one run, injected by type. */
export abstract class TaskContext {
  abstract readonly id: string;
  abstract readonly name: string;
  /** 1 on the first run. */
  abstract readonly attempt: number;
  abstract readonly parentId: string | undefined;
  /** The arguments of this run, as stored (JSON), for middleware that logs or caches. */
  abstract readonly args: readonly unknown[];
  /** Child logger carrying the task id and name. */
  abstract readonly logger: Logger;
  /** Aborted on timeout, cancel and shutdown. */
  abstract readonly signal: AbortSignal;
  abstract readonly broker: Broker;
  abstract readonly storage: Storage;
  abstract readonly config: Config;
  /** Ends this run as `cancel`; never returns. */
  abstract cancel(reason?: string): never;
  /** Keeps `value` on the record as `progress` and emits `task:progress`. */
  abstract progress(value: unknown): Promise<void>;
  /**
   * Keeps a line on the task's record (`logs`, shown in the web view), with the time and attempt;
   * the newest `maxLogLines` are kept and a line is cut at 4,096 characters.
   * @example
   * ```ts
   * await ctx.log(`fetched ${rows.length} rows`);
   * ```
   */
  abstract log(line: string): Promise<void>;
  abstract readonly addTask: AddTaskFn;
  /**
   * In the parent of a flow (`app.run(flow({ … }))`): its children's results, in children order
   * (a failed child gives `undefined` under `onChildError: 'ignore'`, `{ error }` under
   * `'continue'`). Rejects `QTASKS_ERR_INVALID_STATE` in any other task.
   */
  abstract childResults(): Promise<unknown[]>;
}

/** What an `echo: true` task receives as its first parameter. */
export interface TaskSelf {
  readonly id: string;
  readonly ctx: TaskContext;
  readonly addTask: AddTaskFn;
  /** Ends this run as `cancel`; never returns. */
  cancel(reason?: string): never;
  /**
   * Waits for the children this run added with `self.addTask` (those added since the last call)
   * and gives their results in the order added (`[]` when there are none). Meanwhile the task
   * holds no worker slot (its status is `waiting`), so a worker of concurrency 1 runs its children;
   * it takes a slot again when they ended. A child that ended `error` or `cancel` makes it reject
   * `ChildFailedError` (`QTASKS_ERR_CHILD_FAILED`, the child's error in `cause`) and cancels the
   * children that have not ended, unless `onChildError` is `'ignore'` (`undefined` in its place)
   * or `'continue'` (`{ error }`). A cancel or timeout of the task while it waits cancels the
   * children that have not ended. If the worker's process dies meanwhile, the task runs again from
   * the start, as after any stall (its children then are added again, unless they have fixed ids).
   * Not available in a thread or process executor (`QTASKS_ERR_UNSUPPORTED`), nor after the run
   * ended (`QTASKS_ERR_INVALID_STATE`).
   * @example
   * ```ts
   * await self.addTask('resize', [img, 64]);
   * await self.addTask('resize', [img, 256]);
   * const [small, large] = await self.waitChildren<string>();
   * ```
   */
  waitChildren<T = unknown>(options?: WaitChildrenOptions): Promise<T[]>;
}

/** Thrown by `ctx.cancel()`; ends the run as `cancel`. Not an error a task should catch. */
export class CancelSignal {
  constructor(readonly reason?: string) {}
}
