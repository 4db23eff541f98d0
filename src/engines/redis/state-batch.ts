/**
 * Shared-state calls of one tick go to Redis together: increments in one script call per state hash
 * (`lua/stateIncr-1.lua`), reads in one HMGET, sets and deletes in one script call each
 * (`lua/stateSet-1.lua`, `lua/stateDel-1.lua`), set adds in one script call
 * (`lua/stateAddMember-1.lua`, which reads and writes each set once).
 * Tasks that bump a counter or read a setting at every run would otherwise cost Redis a call each,
 * a worker's statistics flush adds a few dozen counters at once, a workflow reads and deletes a
 * group's results together, and the members of a group that end together are counted in one call
 * (one read and one write of the set, where a call each made Redis copy a large set once per
 * member). Each call still gets its own answer.
 *
 * Calls stay in the order they were made: only one kind waits at a time (a call of another kind
 * sends what waits first), and the storage sends it before any state call it does not batch (an
 * `update` after an `incr` of the same tick runs after it).
 */
import { TickBatch } from '../shared/tick-batch';
import type { RedisStorage } from './redis-storage';

/** A batched call: its field, and its step (an increment), member (a set add) or value's JSON (a set). */
interface StateCall {
  field: string;
  arg: number | string;
}

/** Calls in one command at most (the rest go in further commands, sent at once). */
const CALL_SIZE = 500;

/** Coalesces the shared-state calls of one queue's storage (a group per state name). */
export class RedisStateBatch {
  private readonly incrs: TickBatch<StateCall, string>;
  private readonly gets: TickBatch<StateCall, string | null>;
  private readonly dels: TickBatch<StateCall, boolean>;
  private readonly adds: TickBatch<StateCall, number>;
  private readonly sets: TickBatch<StateCall, void>;
  /** The batch that may hold calls (the one last added to). */
  private last: { flush(): void } | undefined;

  constructor(s: RedisStorage) {
    // the key is named when the call goes (a store may be used before its app connects)
    const fields = (calls: StateCall[]): string[] => calls.map((c) => c.field);
    // field, arg, field, arg, … (an increment's step, a set's JSON, an add's member)
    const pairs = (calls: StateCall[]): (string | number)[] => calls.flatMap((c) => [c.field, c.arg]);
    this.incrs = new TickBatch(
      (state, calls) => s.call('state incr', () => s.link.script('stateIncr')([s.keys.state(state)], pairs(calls))) as Promise<string[]>,
      CALL_SIZE,
    );
    this.gets = new TickBatch((state, calls) => s.call('state get', (r) => r.hmget(s.keys.state(state), ...fields(calls))), CALL_SIZE);
    this.dels = new TickBatch(
      (state, calls) =>
        (s.call('state delete', () => s.link.script('stateDel')([s.keys.state(state)], fields(calls))) as Promise<number[]>).then((res) =>
          res.map((n) => Number(n) === 1),
        ),
      CALL_SIZE,
    );
    this.sets = new TickBatch(
      (state, calls) => s.call('state set', () => s.link.script('stateSet')([s.keys.state(state)], pairs(calls))).then(() => new Array<void>(calls.length)),
      CALL_SIZE,
    );
    this.adds = new TickBatch(
      (state, calls) =>
        (s.call('state add', () => s.link.script('stateAddMember')([s.keys.state(state)], pairs(calls))) as Promise<number[]>).then((res) => res.map(Number)),
      CALL_SIZE,
    );
  }

  /** Adds `by` to `field` of `state`; resolves with its new value (the stored text). */
  incr(state: string, field: string, by: number): Promise<string> {
    return this.via(this.incrs, state, { field, arg: by });
  }

  /** The stored text of `field` of `state`, null when missing. */
  get(state: string, field: string): Promise<string | null> {
    return this.via(this.gets, state, { field, arg: 0 });
  }

  /** Deletes `field` of `state` (and the count a stateAddMember set keeps beside it); true when it existed. */
  del(state: string, field: string): Promise<boolean> {
    return this.via(this.dels, state, { field, arg: 0 });
  }

  /** Sets `field` of `state` to `json` (and drops the count a stateAddMember set keeps beside it). */
  set(state: string, field: string, json: string): Promise<void> {
    return this.via(this.sets, state, { field, arg: json });
  }

  /** Adds whole number `member` to the set kept in `field` of `state`; resolves with the set's size after it. */
  addMember(state: string, field: string, member: number): Promise<number> {
    return this.via(this.adds, state, { field, arg: member });
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
