/**
 * `stateIncr` calls of one tick go to Redis as one script call per state hash (`lua/stateIncr-1.lua`):
 * tasks that bump a shared counter at every run would otherwise cost Redis a script call each, and
 * a worker's statistics flush adds a few dozen counters at once. Each call still resolves with the
 * value right after its own increment (the script applies them in order).
 */
import type { RedisStorage } from './redis-storage';

interface PendingIncr {
  field: string;
  by: number;
  resolve: (value: number) => void;
  reject: (err: Error) => void;
}

/** Increments in one script call at most (the rest go in further calls, sent at once). */
const CALL_SIZE = 500;

/** Coalesces the state increments of one queue's storage. */
export class RedisIncrBatch {
  /** Increments waiting for the end of the tick, by state name. */
  private pending = new Map<string, PendingIncr[]>();
  private scheduled = false;
  private readonly flushFn = (): void => this.flush();

  constructor(private readonly storage: RedisStorage) {}

  /** Adds `by` to `field` of the state `state`; resolves with its new value. */
  add(state: string, field: string, by: number): Promise<number> {
    return new Promise((resolve, reject) => {
      let list = this.pending.get(state);
      if (list === undefined) this.pending.set(state, (list = []));
      list.push({ field, by, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(this.flushFn);
      }
    });
  }

  /** Sends what waits (also called by the storage's close, before it refuses new commands). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.size === 0) return;
    const all = this.pending;
    this.pending = new Map();
    for (const [state, list] of all) {
      if (list.length <= CALL_SIZE) this.send(state, list);
      else for (let from = 0; from < list.length; from += CALL_SIZE) this.send(state, list.slice(from, from + CALL_SIZE));
    }
  }

  private send(state: string, list: PendingIncr[]): void {
    const args: (string | number)[] = [];
    for (const p of list) args.push(p.field, p.by);
    // the key is named when the call goes (a store may be used before its app connects)
    const s = this.storage;
    s.call('state incr', () => s.link.script('stateIncr')([s.keys.state(state)], args)).then(
      (res) => {
        const values = res as string[];
        for (let i = 0; i < list.length; i++) list[i].resolve(Number(values[i]));
      },
      (err: Error) => {
        for (const p of list) p.reject(err);
      },
    );
  }
}
