/**
 * Shared-state calls of one tick go to Redis together: increments in one script call per state hash
 * (`lua/stateIncr-1.lua`), reads in one HMGET, deletes in one script call (`lua/stateDel-1.lua`).
 * Tasks that bump a counter or read a setting at every run would otherwise cost Redis a call each,
 * a worker's statistics flush adds a few dozen counters at once, and a workflow reads and deletes a
 * group's results together. Each call still gets its own answer.
 *
 * Calls stay in the order they were made: a batch holds calls of one kind, a call of another kind
 * sends it first, and the storage sends it before any state call it does not batch (a `set` after
 * an `incr` of the same tick runs after it).
 */
import type { RedisStorage } from './redis-storage';

/** What a batched call does: its command per state hash, its arguments per call, its answer per call. */
type Kind = 'incr' | 'get' | 'del';

interface Pending {
  field: string;
  by: number;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** Calls in one command at most (the rest go in further commands, sent at once). */
const CALL_SIZE = 500;

/** Coalesces the shared-state calls of one queue's storage. */
export class RedisStateBatch {
  private kind: Kind | undefined;
  /** Calls waiting for the end of the tick, by state name. */
  private pending = new Map<string, Pending[]>();
  private scheduled = false;
  private readonly flushFn = (): void => this.flush();

  constructor(private readonly storage: RedisStorage) {}

  /** Adds `by` to `field` of `state`; resolves with its new value (the stored text). */
  incr(state: string, field: string, by: number): Promise<string> {
    return this.add('incr', state, field, by) as Promise<string>;
  }

  /** The stored text of `field` of `state`, null when missing. */
  get(state: string, field: string): Promise<string | null> {
    return this.add('get', state, field, 0) as Promise<string | null>;
  }

  /** Deletes `field` of `state` (and the count a stateAddMember set keeps beside it); true when it existed. */
  del(state: string, field: string): Promise<boolean> {
    return this.add('del', state, field, 0) as Promise<boolean>;
  }

  private add(kind: Kind, state: string, field: string, by: number): Promise<unknown> {
    if (this.kind !== kind) {
      // a call of another kind: what waits goes first
      this.flush();
      this.kind = kind;
    }
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

  /** Sends what waits (the storage calls it before a state call it does not batch, and at close). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.size === 0) return;
    const all = this.pending;
    const kind = this.kind!;
    this.pending = new Map();
    for (const [state, list] of all) {
      if (list.length <= CALL_SIZE) this.send(kind, state, list);
      else for (let from = 0; from < list.length; from += CALL_SIZE) this.send(kind, state, list.slice(from, from + CALL_SIZE));
    }
  }

  private send(kind: Kind, state: string, list: Pending[]): void {
    const s = this.storage;
    let call: Promise<unknown[]>;
    // the key is named when the call goes (a store may be used before its app connects)
    if (kind === 'get') {
      const fields = list.map((p) => p.field);
      call = s.call('state get', (r) => r.hmget(s.keys.state(state), ...fields));
    } else if (kind === 'incr') {
      const args: (string | number)[] = [];
      for (const p of list) args.push(p.field, p.by);
      call = s.call('state incr', () => s.link.script('stateIncr')([s.keys.state(state)], args)) as Promise<unknown[]>;
    } else {
      const fields = list.map((p) => p.field);
      call = s.call('state delete', () => s.link.script('stateDel')([s.keys.state(state)], fields)) as Promise<unknown[]>;
    }
    call.then(
      (res) => {
        for (let i = 0; i < list.length; i++) list[i].resolve(kind === 'del' ? Number(res[i]) === 1 : res[i]);
      },
      (err: Error) => {
        for (const p of list) p.reject(err);
      },
    );
  }
}
