/**
 * State and dependencies: a `@State()` store shared by every worker of the queue, a task-scoped
 * `@Depends` resource opened and closed around each run, a worker-scoped one opened once, and a
 * `depends(factory)` written as an async generator.
 */
import 'reflect-metadata';
import { Depends, depends, Inject, QTasks, State, StateStore, Task, TaskContext } from 'qtasks';

/** Counters shared by all workers (kept in the app's storage). */
@State({ name: 'visits' })
export class Visits extends StateStore<{ total: number; last: string }> {}

/** Opened once when the worker starts, closed at close(). */
@Depends({ scope: 'worker' })
export class Pool {
  static opened = 0;
  static closed = 0;
  async open() { Pool.opened++; }
  async close() { Pool.closed++; }
  query(sql: string) { return `result of ${sql}`; }
}

/** Opened for each run, closed after it (also when the task throws). */
@Depends()
export class Transaction {
  static log: string[] = [];
  constructor(private readonly ctx: TaskContext) {}
  async open() { Transaction.log.push(`begin ${this.ctx.id}`); }
  async close() { Transaction.log.push(`end ${this.ctx.id}`); }
}

/** A factory resource: code before `yield` opens, code after it closes. */
export const clock = depends(async function* () {
  const started = Date.now();
  yield { started };
});

export class Visitor {
  @Task({ name: 'visit' })
  async visit(visits: Visits, pool: Pool, tx: Transaction, @Inject(clock) c: { started: number }, page: string) {
    const total = await visits.incr('total');
    await visits.set('last', page);
    void tx;
    return { total, row: pool.query(`select ${page}`), at: c.started > 0 };
  }

  @Task({ name: 'visit.fail' })
  async fail(tx: Transaction) {
    void tx;
    throw new Error('boom');
  }
}

export const app = new QTasks({ name: 'state-depends', discover: false });
app.register(Visits, Pool, Transaction, Visitor);
