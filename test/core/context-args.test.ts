import 'reflect-metadata';
import { Middleware, Task, TaskContext } from 'qtasks';
import { createTestApp, TestApp } from 'qtasks/testing';

const seen: unknown[][] = [];

@Middleware()
class ArgsSeen {
  async handle(ctx: TaskContext, next: () => Promise<unknown>) {
    seen.push([...ctx.args]);
    return next();
  }
}

let fail = true;

class Jobs {
  @Task({ name: 'ctxargs.echo' })
  echo(ctx: TaskContext, a: number, b: string) {
    return { args: [...ctx.args], a, b };
  }

  @Task({ name: 'ctxargs.flaky' })
  flaky() {
    if (fail) throw new Error('first time');
    return 'ok';
  }
}

describe('task context arguments and manager retry', () => {
  let app: TestApp;
  afterEach(async () => {
    await app.close();
  });

  it('exposes the stored arguments to the task and to middleware', async () => {
    app = createTestApp({ name: 'ctx-args', config: { logLevel: 'silent' } });
    app.register(Jobs).use(ArgsSeen);
    const rec = await app.runTask('ctxargs.echo', [1, 'x']);
    expect(rec.returning).toEqual({ args: [1, 'x'], a: 1, b: 'x' });
    expect(seen).toContainEqual([1, 'x']);
  });

  it('a retried task starts afresh: no start time, worker or progress from the failed run', async () => {
    app = createTestApp({ name: 'ctx-retry', config: { logLevel: 'silent' } });
    app.register(Jobs);
    await app.start();
    const h = await app.addTask('ctxargs.flaky');
    await expect(h.result()).rejects.toMatchObject({ code: 'QTASKS_ERR_TASK_FAILED' });
    fail = false;
    await app.manager.pause();
    expect(await app.manager.retry(h.id)).toBe(true);
    const queued = await app.getTask(h.id);
    expect(queued).toMatchObject({ status: 'new', attempt: 0 });
    expect(queued?.startedAt).toBeUndefined();
    expect(queued?.workerId).toBeUndefined();
    expect(queued?.error).toBeUndefined();
    await app.manager.resume();
    expect(await h.result()).toBe('ok');
  });
});
