/**
 * The `result()` calls of one process waiting for tasks of a queue, by task id: each with its own
 * timeout, settled together when the task's final record is known. Engine-neutral: the Redis and
 * PostgreSQL notifiers keep their waiting calls here.
 */
import { ResultTimeoutError } from '../../errors';
import type { TaskRecord } from '../../task/task-record';

/** One waiting `result()` call. */
export interface Waiter {
  resolve: (r: TaskRecord | undefined) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Waiting calls by task id. */
export class ResultWaiters {
  private readonly waiters = new Map<string, Set<Waiter>>();

  /** How many tasks are waited for. */
  get size(): number {
    return this.waiters.size;
  }

  has(id: string): boolean {
    return this.waiters.has(id);
  }

  /** The ids waited for. */
  ids(): IterableIterator<string> {
    return this.waiters.keys();
  }

  /** Adds a waiting call; it rejects `QTASKS_ERR_RESULT_TIMEOUT` after `timeoutMs` when given. */
  add(id: string, timeoutMs: number | undefined, resolve: Waiter['resolve'], reject: Waiter['reject']): Waiter {
    const w: Waiter = { resolve, reject, timer: undefined };
    let set = this.waiters.get(id);
    if (!set) this.waiters.set(id, (set = new Set()));
    set.add(w);
    if (timeoutMs !== undefined) {
      w.timer = setTimeout(() => {
        this.drop(id, w);
        reject(new ResultTimeoutError(id, timeoutMs));
      }, timeoutMs);
    }
    return w;
  }

  /** Resolves every call waiting for `id` with its final record (undefined: the task is gone). */
  settle(id: string, rec: TaskRecord | undefined): void {
    const set = this.waiters.get(id);
    if (!set) return;
    this.waiters.delete(id);
    for (const w of set) {
      if (w.timer) clearTimeout(w.timer);
      w.resolve(rec);
    }
  }

  /** Removes one call; false when it was not waiting any more. */
  drop(id: string, w: Waiter): boolean {
    const set = this.waiters.get(id);
    if (!set || !set.delete(w)) return false;
    if (w.timer) clearTimeout(w.timer);
    if (set.size === 0) this.waiters.delete(id);
    return true;
  }

  /** Rejects every waiting call with `err`. */
  rejectAll(err: Error): void {
    for (const [id, set] of this.waiters) for (const w of set) this.drop(id, w) && w.reject(err);
  }
}
