/**
 * The optional fields of a record fixed at enqueue (parent, retry and timeout options, retention,
 * headers): the Redis and PostgreSQL engines keep them with the args in one JSON text, written and
 * read back through {@link copyOptionalFixed}, so a field added to the record is added once.
 */
import type { RetentionOption } from '../../task/retention';
import type { TaskRecord } from '../../task/task-record';

/** The optional fields fixed at enqueue. */
export interface OptionalFixed {
  parentId?: string;
  retry?: number;
  backoff?: TaskRecord['backoff'];
  timeout?: number;
  removeOnComplete?: RetentionOption;
  removeOnFail?: RetentionOption;
  headers?: Record<string, string>;
}

/** Copies the optional fixed fields that are set from `from` onto `to` (a record or its stored JSON). */
export function copyOptionalFixed(from: OptionalFixed, to: OptionalFixed): void {
  if (from.parentId !== undefined) to.parentId = from.parentId;
  if (from.retry !== undefined) to.retry = from.retry;
  if (from.backoff !== undefined) to.backoff = from.backoff;
  if (from.timeout !== undefined) to.timeout = from.timeout;
  if (from.removeOnComplete !== undefined) to.removeOnComplete = from.removeOnComplete;
  if (from.removeOnFail !== undefined) to.removeOnFail = from.removeOnFail;
  if (from.headers !== undefined) to.headers = from.headers;
}

/** True when `from` has any of the fields {@link copyOptionalFixed} copies. */
export function hasOptionalFixed(from: OptionalFixed): boolean {
  return (
    from.parentId !== undefined ||
    from.retry !== undefined ||
    from.backoff !== undefined ||
    from.timeout !== undefined ||
    from.removeOnComplete !== undefined ||
    from.removeOnFail !== undefined ||
    from.headers !== undefined
  );
}
