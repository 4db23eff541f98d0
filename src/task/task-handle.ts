/**
 * `TaskHandle`: what `addTask` returns. Waits for the result, streams items, cancels.
 */
import { ClosedError, TaskCancelledError, TaskFailedError, TaskNotFoundError } from '../errors';
import type { Broker } from '../engine/broker';
import type { Storage } from '../engine/storage';
import type { TaskRecord, TaskStatus } from './task-record';
import { cloneJson } from './json';

/** Options of `result()`. */
export interface ResultOptions {
  /** Milliseconds to wait; without it, wait until the task ends. */
  timeout?: number;
}

/** A handle on one task. */
export interface TaskHandle<R = unknown> {
  readonly id: string;
  /**
   * The returned value once the task ends. Throws `TaskFailedError` (ended `error`),
   * `TaskCancelledError` (ended `cancel`) or `ResultTimeoutError` (no end within `timeout`).
   */
  result(options?: ResultOptions): Promise<R>;
  /** Every yielded item from the first, live; throws after the items when the task did not succeed. */
  stream<T = unknown>(): AsyncIterable<T>;
  /** Current status, undefined when the task is unknown or its record is gone. */
  status(): Promise<TaskStatus | undefined>;
  /** Cancels the task; false when unknown or already finished. */
  cancel(reason?: string): Promise<boolean>;
}

/** Turns a final record into the value `result()` gives, or the error it throws. */
export function settleRecord<R>(id: string, rec: TaskRecord | undefined): R {
  if (rec === undefined) throw new TaskNotFoundError(id, 'id');
  switch (rec.status) {
    case 'success':
      // a copy: changing a result never changes the stored one (nor another caller's)
      return cloneJson(rec.returning) as R;
    case 'error':
      throw new TaskFailedError(id, rec.error ?? { name: 'Error', message: 'unknown error' });
    case 'cancel':
      throw new TaskCancelledError(id, rec.cancelReason);
    default:
      throw new ClosedError('Waiting for a task');
  }
}

/**
 * Where a handle's task lives, shared by the handles of one queue (an app's queue is one), so
 * that a handle is three fields: one is made per `addTask`.
 */
export interface HandleLink {
  readonly broker: Broker;
  readonly storage: Storage;
  /** Connects the engine before first use (`app.handle(id)` may come before anything else). */
  readonly ready?: () => Promise<void> | undefined;
}

/** The handle returned by `addTask`. */
export class QTaskHandle<R = unknown> implements TaskHandle<R> {
  constructor(
    readonly id: string,
    private readonly link: HandleLink,
    /** The record `enqueue` returned, handed back to the broker as a lookup hint. */
    private readonly hint?: TaskRecord,
  ) {}

  // The callbacks are made in methods of their own: a function that makes a closure allocates a
  // context object for the variables it keeps at every call, even when that branch is not taken.

  result(options?: ResultOptions): Promise<R> {
    const pending = this.link.ready?.();
    return pending === undefined ? this.waitResult(options) : this.resultAfter(pending, options);
  }

  private resultAfter(pending: Promise<void>, options: ResultOptions | undefined): Promise<R> {
    return pending.then(() => this.waitResult(options));
  }

  private waitResult(options?: ResultOptions): Promise<R> {
    const id = this.id;
    const broker = this.link.broker;
    const ended = broker.immediate?.finalNow(id, this.hint);
    if (ended !== undefined) {
      // ended already: no waiting, no callback
      try {
        return Promise.resolve(settleRecord<R>(id, ended));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.waitFinal(options);
  }

  private waitFinal(options: ResultOptions | undefined): Promise<R> {
    const id = this.id;
    const broker = this.link.broker;
    // beyond what a Node timer holds (~24.8 days), a timeout would fire at once: wait without one
    const timeout = options?.timeout !== undefined && options.timeout > 2_147_483_647 ? undefined : options?.timeout;
    return new Promise<R>((resolve, reject) => {
      const done = (rec: TaskRecord | undefined, err?: Error) => {
        if (err !== undefined) reject(err);
        else if (rec === undefined) reject(new TaskNotFoundError(id, 'id'));
        else {
          try {
            resolve(settleRecord<R>(id, rec));
          } catch (e) {
            reject(e);
          }
        }
      };
      if (broker.whenFinal !== undefined) broker.whenFinal(id, timeout, done, this.hint);
      else broker.waitFinal(id, timeout).then((rec) => done(rec), (err: Error) => done(undefined, err));
    });
  }

  stream<T = unknown>(): AsyncIterable<T> {
    const link = this.link;
    return { [Symbol.asyncIterator]: () => streamIterator<T>(link.broker, this.id, link.ready) };
  }

  async status(): Promise<TaskStatus | undefined> {
    await this.link.ready?.();
    return (await this.link.storage.get(this.id))?.status;
  }

  async cancel(reason?: string): Promise<boolean> {
    await this.link.ready?.();
    return this.link.broker.cancel(this.id, reason);
  }

  toJSON(): { id: string } {
    return { id: this.id };
  }
}

function streamIterator<T>(broker: Broker, id: string, ready: (() => Promise<void> | undefined) | undefined): AsyncIterator<T> {
  const buffer: T[] = [];
  let end: { record: TaskRecord | undefined; error?: Error } | undefined;
  let wake: (() => void) | undefined;
  let unsubscribe: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const start = () => {
    unsubscribe = broker.watchItems(
      id,
      0,
      (item) => {
        buffer.push(cloneJson(item) as T);
        poke();
      },
      (record, error) => {
        end = { record, error };
        poke();
      },
    );
  };
  return {
    async next(): Promise<IteratorResult<T>> {
      if (!unsubscribe) {
        await ready?.();
        if (!unsubscribe) start();
      }
      for (;;) {
        if (buffer.length > 0) return { value: buffer.shift() as T, done: false };
        if (end) {
          if (end.error) throw end.error;
          if (end.record === undefined) throw new TaskNotFoundError(id, 'id');
          settleRecord(id, end.record);
          return { value: undefined, done: true };
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    async return(): Promise<IteratorResult<T>> {
      unsubscribe?.();
      return { value: undefined, done: true };
    },
  };
}
