/**
 * The event object a plugin hook receives at each point, typed per point. Annotate a hook method's
 * parameter with one of these (`@Hook('task:after') after(e: HookEvents['task:after'])`).
 */
import type { TaskErrorInfo } from '../errors';
import type { TaskContext } from '../task/task-context';
import type { TaskRecord } from '../task/task-record';

/** Fields every hook event has. */
export interface AppHookEvent {
  /** The app (a `QTasks`). */
  app: object;
}

/** Events of the task points that run inside an attempt. */
export interface TaskRunHookEvent extends AppHookEvent {
  record: TaskRecord;
  ctx: TaskContext;
  args: unknown[];
}

/** Events of the points that mark how an attempt ended; `record` shows the new status. */
export interface TaskEndHookEvent extends AppHookEvent {
  record: TaskRecord;
  /** Undefined when the task ended before its context was made. */
  ctx: TaskContext | undefined;
  error: TaskErrorInfo | undefined;
  result: unknown;
}

/** The event of each hook point. */
export interface HookEvents {
  'app:start': AppHookEvent;
  'app:close': AppHookEvent;
  /** Before the record is stored; may return `{ args }`. */
  'task:enqueue': AppHookEvent & { record: TaskRecord; args: unknown[] };
  /** Before the body (after validation and rate limit); may return `{ args }`. */
  'task:before': TaskRunHookEvent;
  /** After a body that returned; may return `{ result }`. */
  'task:after': TaskRunHookEvent & { result: unknown };
  'task:success': TaskEndHookEvent;
  'task:error': TaskEndHookEvent;
  'task:retry': TaskEndHookEvent;
  'task:cancel': TaskEndHookEvent;
  'worker:start': AppHookEvent & { workerId: string };
  'worker:stop': AppHookEvent & { workerId: string };
}
