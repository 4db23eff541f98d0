/**
 * Base class of every error qtasks throws, and the typed errors a user matches on.
 */
import { ErrorCode, ErrorCodes } from './codes';

/** Options accepted by every qtasks error. */
export interface QTasksErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/** Every error qtasks throws extends this class and carries a stable `code`. */
export class QTasksError extends Error {
  readonly code: string;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode | string, message: string, options: QTasksErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options.details) this.details = options.details;
  }
}

/** The error a finished task recorded (as kept on its {@link TaskRecord}). */
export interface TaskErrorInfo {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  [key: string]: unknown;
}

/** `result()` of a task that ended `error`; the recorded error is in `cause`. */
export class TaskFailedError extends QTasksError {
  declare readonly cause: TaskErrorInfo;
  constructor(readonly taskId: string, cause: TaskErrorInfo) {
    super(ErrorCodes.TASK_FAILED, `Task ${taskId} failed: ${cause.message}`, { cause });
  }
}

/** `result()` of a task that ended `cancel`. */
export class TaskCancelledError extends QTasksError {
  constructor(readonly taskId: string, readonly reason?: string) {
    super(ErrorCodes.TASK_CANCELLED, `Task ${taskId} was cancelled${reason ? `: ${reason}` : ''}`);
  }
}

/**
 * `self.waitChildren()` (default policy `'fail'`): a child of the task ended `error` or `cancel`.
 * Its recorded error is in `cause`; the children that had not ended were cancelled.
 */
export class ChildFailedError extends QTasksError {
  declare readonly cause: TaskErrorInfo;
  constructor(readonly childId: string, cause: TaskErrorInfo) {
    super(ErrorCodes.CHILD_FAILED, `Child task ${childId} failed: ${cause.message}; its siblings that had not ended were cancelled`, {
      cause,
      details: { childId, childError: { name: cause.name, message: cause.message, ...(cause.code === undefined ? {} : { code: cause.code }) } },
    });
  }
}

/** `result({ timeout })` saw no end in time; the task goes on and `result()` may be called again. */
export class ResultTimeoutError extends QTasksError {
  constructor(readonly taskId: string, readonly timeoutMs: number) {
    super(
      ErrorCodes.RESULT_TIMEOUT,
      `Task ${taskId} did not finish within ${timeoutMs} ms; it is still running, call result() again to keep waiting`,
    );
  }
}

/** Recorded on a task whose attempt ran longer than its `timeout`. */
export class TaskTimeoutError extends QTasksError {
  constructor(readonly timeoutMs: number) {
    super(ErrorCodes.TASK_TIMEOUT, `Task attempt exceeded its timeout of ${timeoutMs} ms`);
  }
}

/** `addTask` of a name that is not registered in this app. */
export class TaskNotFoundError extends QTasksError {
  /** `taskName` is a task name (`by: 'name'`) or a task id (`by: 'id'`). */
  constructor(readonly taskName: string, readonly by: 'name' | 'id' = 'name') {
    super(
      ErrorCodes.TASK_NOT_FOUND,
      by === 'name'
        ? `No task named "${taskName}" is registered in this app: register() the class that declares it (a producer registers the tasks it sends to, it need not start)`
        : `No task with id "${taskName}": it never existed, was removed, or its record expired (see resultTtlMs)`,
    );
  }
}

/** Arguments or results that are not JSON. */
export class NotSerializableError extends QTasksError {
  constructor(what: string, path: string, reason: string) {
    super(
      ErrorCodes.NOT_SERIALIZABLE,
      `${what} must be JSON: ${path} is ${reason}; pass plain data (strings, numbers, booleans, null, arrays, objects)`,
      { details: { path } },
    );
  }
}

/** `QTASKS_ERR_PAYLOAD_TOO_LARGE`: an encoded value beyond `maxPayloadBytes`. */
export class PayloadTooLargeError extends QTasksError {
  constructor(what: string, limit: number, size?: number) {
    super(
      ErrorCodes.PAYLOAD_TOO_LARGE,
      `${what} take ${size === undefined ? 'more than' : size} bytes of JSON, over maxPayloadBytes (${limit}); ` +
        'pass a reference (a key, a URL) to large data instead, or raise config.maxPayloadBytes',
      { details: { limit, size } },
    );
  }
}

/**
 * A stored record or queue entry that cannot be decoded (corrupt JSON, missing or wrong-typed
 * fields, written by hand or by another version). Its task ends `error` with this code; readers
 * flag it instead of failing.
 */
export class BadRecordError extends QTasksError {
  constructor(readonly taskId: string, reason: string) {
    super(
      ErrorCodes.BAD_RECORD,
      `The stored record of task "${taskId}" cannot be used (${reason}), so the task ends here and never runs again: inspect or remove it, then add the task again`,
      { details: { id: taskId } },
    );
  }
}

/**
 * A shared state value (`@State()`) whose stored form cannot be decoded (corrupt JSON written by
 * hand or by another program). Reads of that key reject with this code; `set()` or `delete()`
 * repairs it, and `all()` leaves it out.
 */
export class BadStateValueError extends QTasksError {
  constructor(readonly state: string, readonly key: string) {
    super(
      ErrorCodes.BAD_RECORD,
      `The stored value of state "${state}" key "${key}" is not valid JSON, so it cannot be read: set() or delete() that key to repair it`,
      { details: { state, key } },
    );
  }
}

/** An operation on an app or component after `close()`. */
export class ClosedError extends QTasksError {
  constructor(what: string) {
    super(ErrorCodes.CLOSED, `${what} after close(): create a new app to go on`);
  }
}

/** The broker could not be reached within `connectTimeoutMs`. */
export class BrokerUnavailableError extends QTasksError {
  constructor(message: string, cause?: unknown, details?: Record<string, unknown>) {
    super(ErrorCodes.BROKER_UNAVAILABLE, message, details ? { cause, details } : { cause });
  }
}

/** One failing property of a validated argument. */
export interface ValidationIssue {
  argument: number;
  property: string;
  constraints: Record<string, string>;
}

/** Arguments that failed their DTO validation; `issues` lists every failing property. */
export class ValidationError extends QTasksError {
  constructor(readonly taskName: string, readonly issues: ValidationIssue[]) {
    super(
      ErrorCodes.VALIDATION,
      `Invalid arguments for task "${taskName}": ` +
        issues.map((i) => `args[${i.argument}].${i.property}: ${Object.values(i.constraints).join(', ')}`).join('; '),
      { details: { issues } },
    );
  }
}
