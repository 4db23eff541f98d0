/**
 * The record of a new task, from its definition's defaults and the enqueue options (checked
 * here): what `addTask`, `addTasks` and workflows hand the broker.
 */
import type { Config } from '../config';
import { toJsonArgs } from '../task/json';
import type { EnqueueOptions, TaskRecord } from '../task/task-record';
import type { PreparedTask } from '../worker/runtime';
import { checkEnqueueOptions } from './enqueue-options';

/** A new task's record (status `new`, or `delayed` with its `runAt`). */
export function newRecord(
  task: PreparedTask,
  name: string,
  args: unknown[] | undefined,
  opts: EnqueueOptions | undefined,
  newId: () => string,
  config: Config,
): TaskRecord {
  const o = task.def.options;
  const now = Date.now();
  if (opts !== undefined) checkEnqueueOptions(opts);
  const delay = opts?.delay;
  return {
    id: opts?.id ?? newId(),
    name,
    status: delay !== undefined && delay > 0 ? 'delayed' : 'new',
    priority: opts?.priority ?? o.priority ?? 0,
    args: toJsonArgs(args, config),
    attempt: 0,
    createdAt: now,
    updatedAt: now,
    parentId: opts?.parentId,
    runAt: delay !== undefined && delay > 0 ? now + delay : undefined,
    retry: opts?.retry ?? o.retry,
    // a backoff function stays in the task's definition (the worker calls it), never on the record
    backoff: opts?.backoff ?? (typeof o.backoff === 'function' ? undefined : o.backoff),
    timeout: opts?.timeout ?? o.timeout,
    removeOnComplete: opts?.removeOnComplete ?? o.removeOnComplete,
    removeOnFail: opts?.removeOnFail ?? o.removeOnFail,
    headers: opts?.headers === undefined ? undefined : { ...opts.headers },
  };
}

/** True for a string map (what a plugin may leave in `record.headers`). */
export function isHeaders(v: unknown): v is Record<string, string> {
  return v !== null && typeof v === 'object' && Object.values(v).every((x) => typeof x === 'string');
}
