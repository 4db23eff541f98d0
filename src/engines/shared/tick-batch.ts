/**
 * Calls made in one tick, sent together: each call is queued under a group (a state hash, say),
 * and at the end of the tick (or at `flush()`) every group goes in commands of at most `size`
 * calls, each answered on its own. A command that fails rejects the calls it carried, and only
 * those. The shared-state batches of the Redis and PostgreSQL storages are made of these.
 *
 * With `maxInflight`, at most that many commands are out at a time: calls made meanwhile wait and
 * go together once one is answered, so that batches grow with the load (calls that would each
 * wait for the same row lock go as one).
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
  /** Commands sent and not answered yet. */
  private inflight = 0;
  private readonly flushFn = (): void => this.flush();
  private readonly answered = (): void => {
    this.inflight--;
    if (!this.scheduled && this.pending.size > 0) this.flush();
  };

  constructor(
    private readonly send: (group: string, calls: C[]) => Promise<A[]>,
    private readonly size: number,
    private readonly maxInflight = Infinity,
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
      for (let from = 0; from < list.length; from += this.size) {
        if (this.inflight >= this.maxInflight) {
          // the rest waits, in order, for a command to be answered
          this.pending.set(group, list.slice(from));
          break;
        }
        this.sendOne(group, from === 0 && list.length <= this.size ? list : list.slice(from, from + this.size));
      }
    }
  }

  private sendOne(group: string, list: Queued<C, A>[]): void {
    this.inflight++;
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
    void sent.then(this.answered, this.answered);
  }
}
