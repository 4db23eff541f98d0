import 'reflect-metadata';
import { QTasks, Task, TaskContext, TaskSelf, Depends, State, StateStore, Inject, depends, QTasksError, TaskFailedError } from 'qtasks';

@Depends()
class Db {
  opened = false;
  closed = false;
  async open() { this.opened = true; }
  async close() { this.closed = true; }
  query(day: string) { return `rows of ${day}`; }
}

@Task({ name: 'c.add' })
class Add { run(a: number, b: number) { return a + b; } }

@Task({ name: 'c.report' })
class Report {
  constructor(private ctx: TaskContext, private db: Db) {}
  async run(day: string) { return `${this.ctx.name}:${this.db.query(day)}`; }
}

class Mailer {
  @Task({ name: 'c.mail.send', retry: 3, timeout: 5_000 })
  async send(ctx: TaskContext, to: string) { ctx.logger.debug('sending', { to }); return `${to}@${ctx.attempt}`; }
}

@Task({ name: 'c.count', echo: true })
class Count {
  async *run(self: TaskSelf, n: number) {
    for (let i = 0; i < n; i++) yield i;
    await self.addTask('c.add', [n, 1]);
  }
}

@State()
class Hits extends StateStore<{ n: number }> {}

const conn = depends(async function* () { yield { tag: 'conn' }; });

class Stateful {
  @Task({ name: 'c.hit' })
  async hit(hits: Hits, @Inject(conn) c: { tag: string }, by: number) { await hits.incr('n', by); return c.tag; }
}

describe('contract example', () => {
  let app: QTasks;
  afterEach(async () => { await app?.close(); });

  it('runs the contract sample end to end', async () => {
    app = new QTasks({ name: 'demo-contract', discover: false, config: { logLevel: 'silent' } });
    app.register(Add, Mailer, Count, Report, Stateful);
    await app.start();
    const h = await app.addTask('c.add', [1, 2], { priority: 0 });
    expect(await h.result({ timeout: 1_000 })).toBe(3);
    const rec = await app.getTask(h.id);
    expect(rec?.status).toBe('success');
    expect(rec?.returning).toBe(3);
    expect(rec?.attempt).toBe(1);
    const seen: unknown[] = [];
    const c = await app.addTask('c.count', [3]);
    for await (const x of c.stream()) seen.push(x);
    expect(seen).toEqual([0, 1, 2]);
    expect(await c.result()).toEqual([0, 1, 2]);
    const children = await app.manager.list({ name: 'c.add' });
    expect(children.some((r) => r.parentId === c.id)).toBe(true);
    expect(await (await app.addTask('c.report', ['mon'])).result()).toBe('c.report:rows of mon');
    expect(await (await app.addTask('c.mail.send', ['bob'])).result()).toBe('bob@1');
    expect(await (await app.addTask('c.hit', [2])).result()).toBe('conn');
    await (await app.addTask('c.hit', [3])).result();
    expect(await app.state(Hits).get('n')).toBe(5);
  });

  it('rejects unknown tasks and non-JSON args with codes', async () => {
    app = new QTasks({ name: 'demo-errors', discover: false, config: { logLevel: 'silent' } });
    app.register(Add);
    await expect(app.addTask('nope')).rejects.toMatchObject({ code: 'QTASKS_ERR_TASK_NOT_FOUND' });
    await expect(app.addTask('c.add', [() => 1])).rejects.toMatchObject({ code: 'QTASKS_ERR_NOT_SERIALIZABLE' });
    await expect(app.addTask('c.add', [10n])).rejects.toBeInstanceOf(QTasksError);
    expect(await app.getTask('missing')).toBeUndefined();
    void TaskFailedError;
  });
});
