/**
 * The messages between the app and a task running in a worker thread or a child process. The
 * child asks (`call`), the app answers (`reply`); logs and the start of the attempt are one-way.
 * Everything sent is JSON-like data (structured clone for threads, `advanced` IPC for processes).
 */
import type { ConfigValues } from '../config';
import type { Outcome } from '../engine/broker';
import type { TaskErrorInfo } from '../errors';
import type { LogFields, LogLevel } from '../logger';
import type { TaskRecord } from '../task/task-record';

/** One attempt to run elsewhere. */
export interface Job {
  /** The file exporting the task's class. */
  module: string;
  /** The queue the task belongs to (`ctx` and state names use it). */
  queue: string;
  /** The record of the attempt, its `args` being the arguments to run with. */
  record: TaskRecord;
  config: ConfigValues;
}

/** What the child may ask the app for. */
export type CallOp =
  /** a generator's item: [item]; answered once the app stored and streamed it */
  | 'item'
  /** [items]: a generator's items, in order (`pushItems`); answered once the app stored and streamed them all */
  | 'items'
  /** [value] */
  | 'progress'
  /** [line]: a `ctx.log()` line ({ at, attempt, line }) kept on the record by the app */
  | 'log'
  /** [name, args, opts] → { id } of the new task */
  | 'addTask'
  /** [taskId, 'result' | 'status' | 'cancel', arg] on a task this run added */
  | 'handle'
  /** [op, state, key?, …] on the app's storage (see RemoteStorage) */
  | 'state'
  /** [] → the children's results of a flow's parent */
  | 'childResults';

/** From the child to the app. */
export type ChildMessage =
  /** the task's module is loaded: the attempt (and its timeout) starts now */
  | { t: 'start' }
  | { t: 'log'; level: Exclude<LogLevel, 'silent'>; message: string; fields?: LogFields }
  | { t: 'call'; id: number; op: CallOp; args: unknown[] }
  /** the end of the job: the last message of a run */
  | { t: 'done'; outcome: Outcome };

/** From the app to the child. */
export type ParentMessage =
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; error: TaskErrorInfo }
  /** processes only */
  | { t: 'run'; job: Job };

/** Narrows a message received from a child. */
export function isChildMessage(m: unknown): m is ChildMessage {
  return m !== null && typeof m === 'object' && typeof (m as { t?: unknown }).t === 'string';
}
