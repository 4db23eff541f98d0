/**
 * Shared-state calls of one tick go to Redis together: increments in one script call per state hash
 * (`lua/stateIncr-1.lua`), reads in one HMGET, deletes in one script call (`lua/stateDel-1.lua`).
 * Tasks that bump a counter or read a setting at every run would otherwise cost Redis a call each,
 * a worker's statistics flush adds a few dozen counters at once, and a workflow reads and deletes a
 * group's results together. Each call still gets its own answer.
 *
 * Calls stay in the order they were made: only one kind waits at a time (a call of another kind
 * sends what waits first), and the storage sends it before any state call it does not batch (a
 * `set` after an `incr` of the same tick runs after it).
 */
import { TickBatch } from '../shared/tick-batch';
import type { RedisStorage } from './redis-storage';

/** A batched call: its field, and its step for an increment. */
interface StateCall {
  field: string;
  by: number;
}

/** Calls in one command at most (the rest go in further commands, sent at once). */
const CALL_SIZE = 500;

/** Coalesces the shared-state calls of one queue's storage (a group per state name). */
export class RedisStateBatch {
  private readonly incrs: TickBatch<StateCall, string>;
  private readonly gets: TickBatch<StateCall, string | null>;
  private readonly dels: TickBatch<StateCall, boolean>;
  /** The batch that may hold calls (the one last added to). */
  private last: { flush(): void } | undefined;

  constructor(s: RedisStorage) {
    // the key is named when the call goes (a store may be used before its app connects)
    const fields = (calls: StateCall[]): string[] => calls.map((c) => c.field);
    this.incrs = new TickBatch((state, calls) => {
      const args: (string | number)[] = [];
      for (const c of calls) args.push(c.field, c.by);
      return s.call('state incr', () => s.link.script('stateIncr')([s.keys.state(state)], args)) as Promise<string[]>;
    }, CALL_SIZE);
    this.gets = new TickBatch((state, calls) => s.call('state get', (r) => r.hmget(s.keys.state(state), ...fields(calls))), CALL_SIZE);
    this.dels = new TickBatch(
      (state, calls) =>
        (s.call('state delete', () => s.link.script('stateDel')([s.keys.state(state)], fields(calls))) as Promise<number[]>).then((res) =>
          res.map((n) => Number(n) === 1),
        ),
      CALL_SIZE,
    );
  }

  /** Adds `by` to `field` of `state`; resolves with its new value (the stored text). */
  incr(state: string, field: string, by: number): Promise<string> {
    return this.via(this.incrs, state, { field, by });
  }

  /** The stored text of `field` of `state`, null when missing. */
  get(state: string, field: string): Promise<string | null> {
    return this.via(this.gets, state, { field, by: 0 });
  }

  /** Deletes `field` of `state` (and the count a stateAddMember set keeps beside it); true when it existed. */
  del(state: string, field: string): Promise<boolean> {
    return this.via(this.dels, state, { field, by: 0 });
  }

  /** Sends what waits (the storage calls it before a state call it does not batch, and at close). */
  flush(): void {
    this.last?.flush();
  }

  private via<A>(batch: TickBatch<StateCall, A>, state: string, call: StateCall): Promise<A> {
    if (this.last !== batch) {
      // a call of another kind: what waits goes first
      this.last?.flush();
      this.last = batch;
    }
    return batch.add(state, call);
  }
}
