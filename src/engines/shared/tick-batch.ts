/**
 * Calls made in one tick, sent together: each call is queued under a group (a state hash, say),
 * and at the end of the tick (or at `flush()`) every group goes in commands of at most `size`
 * calls, each answered on its own. A command that fails rejects the calls it carried, and only
 * those. The shared-state batches of the Redis and PostgreSQL storages are made of these.
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
  private readonly flushFn = (): void => this.flush();

  constructor(
    private readonly send: (group: string, calls: C[]) => Promise<A[]>,
    private readonly size: number,
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

  /** Sends what waits, now. */
  flush(): void {
    this.scheduled = false;
    if (this.pending.size === 0) return;
    const all = this.pending;
    this.pending = new Map();
    for (const [group, list] of all) {
      if (list.length <= this.size) this.sendOne(group, list);
      else for (let from = 0; from < list.length; from += this.size) this.sendOne(group, list.slice(from, from + this.size));
    }
  }

  private sendOne(group: string, list: Queued<C, A>[]): void {
    this.send(
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
  }
}
