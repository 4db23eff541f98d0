/**
 * `StateStore<T>`: base class of `@State()` classes. Values live in the app's storage under the
 * queue and the state's name, so every worker of the queue shares them.
 */
import { ErrorCodes, QTasksError } from '../errors';
import type { Storage } from '../engine/storage';

/**
 * Shared, persisted state. Extend it and decorate with `@State()`; inject the class into tasks.
 * @example
 * ```ts
 * @State() class Stats extends StateStore<{ sent: number }> {}
 * class Mailer { @Task() async send(stats: Stats, to: string) { await stats.incr('sent'); } }
 * ```
 */
export class StateStore<T extends object = Record<string, unknown>> {
  private storage: Storage | undefined;
  private stateName = '';

  /** Binds the store to a storage (done by the app). */
  attachStorage(storage: Storage, name: string): this {
    this.storage = storage;
    this.stateName = name;
    return this;
  }

  /** The name the state is stored under. */
  get name(): string {
    return this.stateName;
  }

  async get<K extends keyof T & string>(key: K): Promise<T[K] | undefined> {
    return (await this.store().stateGet(this.stateName, key)) as T[K] | undefined;
  }

  async set<K extends keyof T & string>(key: K, value: T[K]): Promise<void> {
    await this.store().stateSet(this.stateName, key, value);
  }

  /** Atomic read-modify-write; `fn` must be pure, it may be called more than once. */
  async update<K extends keyof T & string>(key: K, fn: (value: T[K] | undefined) => T[K]): Promise<T[K]> {
    return (await this.store().stateUpdate(this.stateName, key, fn as (v: unknown) => unknown)) as T[K];
  }

  /**
   * Atomically adds `by` (default 1) to a number; a missing value, or one that is not a number,
   * counts as 0. `by` must be a finite number (`QTASKS_ERR_BAD_OPTION` otherwise, nothing written).
   */
  async incr<K extends keyof T & string>(key: K, by = 1): Promise<number> {
    if (typeof by !== 'number' || !Number.isFinite(by)) {
      throw new QTasksError(
        ErrorCodes.BAD_OPTION,
        `State ${this.stateName}: incr('${key}', by) adds a finite number, got ${typeof by === 'number' ? String(by) : typeof by}; convert it first (Number(x)) or use set()/update() for other values`,
      );
    }
    return this.store().stateIncr(this.stateName, key, by);
  }

  async delete<K extends keyof T & string>(key: K): Promise<boolean> {
    return this.store().stateDelete(this.stateName, key);
  }

  async all(): Promise<Partial<T>> {
    return (await this.store().stateAll(this.stateName)) as Partial<T>;
  }

  private store(): Storage {
    if (!this.storage) {
      throw new QTasksError(
        ErrorCodes.INVALID_STATE,
        `State ${this.constructor.name} is not attached to an app: get it by injection (or app.state(${this.constructor.name})), not with new`,
      );
    }
    return this.storage;
  }
}
