/**
 * The in-memory form of a task record: one object per task with a fixed shape, plus the few
 * internals the memory engine needs (waiters, stream items). Users only ever see copies.
 */
import type { TaskErrorInfo } from '../errors';
import type { BackoffOptions, TaskRecord, TaskStatus } from '../task/task-record';

/** A stream reader of one task. */
export interface ItemWatcher {
  onItem: (item: unknown, index: number) => void;
  onEnd: (record: TaskRecord | undefined, error?: Error) => void;
}

/** One task in memory. */
export class MemRecord implements TaskRecord {
  status: TaskStatus;
  attempt = 0;
  progress: unknown = undefined;
  updatedAt: number;
  startedAt: number | undefined = undefined;
  finishedAt: number | undefined = undefined;
  returning: unknown = undefined;
  error: TaskErrorInfo | undefined = undefined;
  cancelReason: string | undefined = undefined;
  parentId: string | undefined;
  workerId: string | undefined = undefined;
  runAt: number | undefined;
  retry: number | undefined;
  backoff: BackoffOptions | undefined;
  timeout: number | undefined;
  removeOnComplete: boolean | undefined;
  stalls = 0;
  seq = 0;
  /** Waiting `result()` calls. */
  waiters: ((record: MemRecord) => void)[] | undefined = undefined;
  /** Items yielded by a generator task (every attempt). */
  items: unknown[] | undefined = undefined;
  watchers: ItemWatcher[] | undefined = undefined;
  /** True while it sits in the ready queue or the delay heap. */
  queued = false;

  constructor(
    readonly id: string,
    readonly name: string,
    public priority: number,
    public args: unknown[],
    readonly createdAt: number,
    src: TaskRecord,
  ) {
    this.status = src.status;
    this.updatedAt = createdAt;
    this.parentId = src.parentId;
    this.runAt = src.runAt;
    this.retry = src.retry;
    this.backoff = src.backoff;
    this.timeout = src.timeout;
    this.removeOnComplete = src.removeOnComplete;
  }
}

const PUBLIC_KEYS = [
  'id', 'name', 'status', 'priority', 'args', 'attempt', 'progress', 'createdAt', 'updatedAt', 'startedAt', 'finishedAt',
  'returning', 'error', 'cancelReason', 'parentId', 'workerId', 'runAt', 'retry', 'backoff', 'timeout', 'removeOnComplete',
  'stalls', 'seq',
] as const;

/** A plain copy of the public fields, leaving out those that are unset. */
export function publicRecord(rec: TaskRecord): TaskRecord {
  const out: Record<string, unknown> = {};
  for (const key of PUBLIC_KEYS) {
    const v = (rec as unknown as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = v;
  }
  if (out.stalls === 0) delete out.stalls;
  return out as unknown as TaskRecord;
}
