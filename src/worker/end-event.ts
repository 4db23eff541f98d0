/**
 * What the end-point hooks of an attempt receive (`task:success`, `task:error`, `task:retry`,
 * `task:cancel`): the record as it will be stored, its error and result — copies made when first
 * read, so that a hook that changes them never changes what is stored.
 */
import type { Outcome } from '../engine/broker';
import type { TaskErrorInfo } from '../errors';
import { cloneJson } from '../task/json';
import { copyRecord, recordCopy } from '../task/record-copy';
import type { TaskRecord } from '../task/task-record';
import type { RunContext } from './run-context';

/** The hook point at which an outcome is announced. */
export type EndPoint = 'task:success' | 'task:error' | 'task:retry' | 'task:cancel';

/** The event of an end point; its record, result and error are copies made when first read. */
export class EndEvent {
  #view: TaskRecord | undefined = undefined;
  #result: { value: unknown } | undefined = undefined;
  #error: { value: TaskErrorInfo | undefined } | undefined = undefined;
  readonly #rec: TaskRecord;
  readonly #outcome: Outcome;

  constructor(
    readonly app: object,
    rec: TaskRecord,
    outcome: Outcome,
    readonly ctx: RunContext | undefined,
  ) {
    this.#rec = rec;
    this.#outcome = outcome;
  }

  get record(): TaskRecord {
    return (this.#view ??= recordCopy({ ...copyRecord(this.#rec), ...recordView(this.#outcome) }));
  }

  get result(): unknown {
    return (this.#result ??= { value: cloneJson((this.#outcome as { returning?: unknown }).returning) }).value;
  }

  get error(): TaskErrorInfo | undefined {
    return (this.#error ??= { value: cloneJson((this.#outcome as { error?: TaskErrorInfo }).error) }).value;
  }
}

/** The hook point of an outcome (none for a hand-back). */
export function hookPoint(o: Outcome): EndPoint | undefined {
  switch (o.status) {
    case 'success':
      return 'task:success';
    case 'error':
      return 'task:error';
    case 'retry':
      return 'task:retry';
    case 'cancel':
      return 'task:cancel';
    default:
      return undefined;
  }
}

/** The fields an outcome sets on the record. */
function recordView(o: Outcome): Partial<TaskRecord> {
  const now = Date.now();
  switch (o.status) {
    case 'success':
      return { status: 'success', returning: o.returning, finishedAt: now, updatedAt: now };
    case 'error':
      return { status: 'error', error: o.error, finishedAt: now, updatedAt: now };
    case 'cancel':
      return { status: 'cancel', cancelReason: o.reason, finishedAt: now, updatedAt: now };
    case 'retry':
      return { status: 'retry', error: o.error, updatedAt: now };
    default:
      return {};
  }
}
