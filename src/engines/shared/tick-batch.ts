/**
 * Calls made in one tick, sent together: each call is queued under a group (a state hash, say),
 * and at the end of the tick (or at `flush()`) every group goes in commands of at most `size`
 * calls, each answered on its own. A command that fails rejects the calls it carried, and only
 * those. The shared-state batches of the Redis and PostgreSQL storages are made of these.
 *
 * With `maxInflight`, at most that many commands are out at a time: calls made meanwhile wait and
 * go together once one is answered, so that batches grow with the load (calls that would each
 * wait for the same row lock go as one).
 *
 * With `keyOf`, a command carries each key once, and a call whose key is in a command out waits for
 * its answer: the calls of one key (one row, one counter) are applied in the order made, each seeing
 * the one before.
 */

interface Queued<C, A> {
  call: C;
  resolve: (answer: A) => void;
  reject: (err: Error) => void;
}

/** Coalesces calls of one kind; `send(group, calls)` answers `calls` in their order. */
export class TickBatch<C, A> {
  private pending = new Map<string, Queued<C, A>[]>();
  private scheduled = false;
  /** Commands sent and not answered yet, and the keys they carry (with `keyOf`). */
  private inflight = 0;
  private readonly busy = new Set<string>();
  private readonly flushFn = (): void => this.flush();

  constructor(
    private readonly send: (group: string, calls: C[]) => Promise<A[]>,
    private readonly size: number,
    private readonly maxInflight = Infinity,
    private readonly keyOf?: (call: C) => string,
  ) {}

  /** Queues `call` under `group`; resolves with its answer once its command answered. */
  add(group: string, call: C): Promise<A> {
    return new Promise((resolve, reject) => {
      let list = this.pending.get(group);
      if (list === undefined) this.pending.set(group, (list = []));
      list.push({ call, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(this.flushFn);
      }
    });
  }

  /** Sends what waits, now (or, with `maxInflight` commands out, once one is answered). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.size === 0 || this.inflight >= this.maxInflight) return;
    const all = this.pending;
    this.pending = new Map();
    for (const [group, list] of all) {
      const [ready, held] = this.split(list);
      for (let from = 0; from < ready.length; from += this.size) {
        if (this.inflight >= this.maxInflight) {
          // the rest waits, in order, for a command to be answered
          this.requeue(group, ready.slice(from));
          break;
        }
        this.sendOne(group, from === 0 && ready.length <= this.size ? ready : ready.slice(from, from + this.size));
      }
      this.requeue(group, held);
    }
  }

  /** The calls that may go now (each key once, none of a key in a command out), and those held back. */
  private split(list: Queued<C, A>[]): [Queued<C, A>[], Queued<C, A>[]] {
    const keyOf = this.keyOf;
    if (keyOf === undefined) return [list, []];
    const ready: Queued<C, A>[] = [];
    const held: Queued<C, A>[] = [];
    const taken = new Set<string>();
    for (const q of list) {
      const k = keyOf(q.call);
      if (this.busy.has(k) || taken.has(k)) held.push(q);
      else {
        taken.add(k);
        ready.push(q);
      }
    }
    return [ready, held];
  }

  private requeue(group: string, list: Queued<C, A>[]): void {
    if (list.length === 0) return;
    const waiting = this.pending.get(group);
    this.pending.set(group, waiting === undefined ? list : waiting.concat(list));
  }

  private sendOne(group: string, list: Queued<C, A>[]): void {
    this.inflight++;
    const keyOf = this.keyOf;
    const keys = keyOf === undefined ? undefined : list.map((q) => keyOf(q.call));
    if (keys !== undefined) for (const k of keys) this.busy.add(k);
    const sent = this.send(
      group,
      list.map((q) => q.call),
    ).then(
      (answers) => {
        for (let i = 0; i < list.length; i++) list[i].resolve(answers[i]);
      },
      (err: Error) => {
        for (const q of list) q.reject(err);
      },
    );
    void sent.then(
      () => this.answered(keys),
      () => this.answered(keys),
    );
  }

  /** A command was answered: its keys are free, and what waited may go. */
  private answered(keys: string[] | undefined): void {
    this.inflight--;
    if (keys !== undefined) for (const k of keys) this.busy.delete(k);
    if (!this.scheduled && this.pending.size > 0) this.flush();
  }
}
