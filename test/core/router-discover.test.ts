/**
 * Router + includeRouter (nested routers), and `discover`: true includes every @Task class imported
 * so far at start, false only the registered ones.
 */
import 'reflect-metadata';
import { ErrorCodes, QTasks, Router, Task } from 'qtasks';

@Task({ name: 'rd.outer' })
class Outer {
  run(x: number) {
    return x + 1;
  }
}

class Inner {
  @Task({ name: 'rd.inner' })
  work(x: number) {
    return x * 2;
  }
}

@Task({ name: 'rd.hidden' })
class Hidden {
  run() {
    return 'found';
  }
}

describe('router and discovery', () => {
  const apps: QTasks[] = [];
  const make = (discover: boolean) => {
    const app = new QTasks({ name: `rd-${Date.now()}`, discover, config: { logLevel: 'silent' } });
    apps.push(app);
    return app;
  };
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
  });

  it('includeRouter registers every class of a router and of the routers it includes', async () => {
    const inner = new Router().register(Inner);
    const outer = new Router().register(Outer).includeRouter(inner);
    expect(outer.classes).toEqual([Outer, Inner]);
    const app = make(false).includeRouter(outer);
    expect(app.taskNames().sort()).toEqual(['rd.inner', 'rd.outer']);
    await app.start();
    expect(await (await app.addTask('rd.outer', [1])).result({ timeout: 2_000 })).toBe(2);
    expect(await (await app.addTask('rd.inner', [4])).result({ timeout: 2_000 })).toBe(8);
    await expect(app.addTask('rd.hidden')).rejects.toMatchObject({ code: ErrorCodes.TASK_NOT_FOUND });
  });

  it('discover: false knows only registered tasks', async () => {
    const app = make(false).register(Outer);
    await app.start();
    expect(app.taskNames()).toEqual(['rd.outer']);
    await expect(app.addTask('rd.hidden')).rejects.toMatchObject({ code: ErrorCodes.TASK_NOT_FOUND });
  });

  it('discover: true (the default) includes every decorated class imported so far', async () => {
    const app = new QTasks({ name: `rd-default-${Date.now()}`, config: { logLevel: 'silent' } });
    apps.push(app);
    app.register(Outer);
    await app.start();
    expect(app.taskNames()).toEqual(expect.arrayContaining(['rd.outer', 'rd.inner', 'rd.hidden']));
    expect(await (await app.addTask('rd.hidden')).result({ timeout: 2_000 })).toBe('found');
    void Hidden;
  });

  it('discover: true also works for a producer that never starts', async () => {
    const app = make(true);
    const h = await app.addTask('rd.inner', [1]);
    expect(await app.getTask(h.id)).toMatchObject({ name: 'rd.inner', status: 'new' });
  });
});
