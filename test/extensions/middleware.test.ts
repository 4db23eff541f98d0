/**
 * Middleware: DI construction, onion order (global then per task), short-circuit, result change,
 * next() twice, an error turned into a retry, a throwing middleware, and no pipeline when none.
 */
import 'reflect-metadata';
import { Config, ErrorCodes, Middleware, QTasksError, RetryError, Task, TaskCancelledError, TaskContext, TaskFailedError } from 'qtasks';
import { createTestApp, TestApp } from 'qtasks/testing';

const trail: string[] = [];

@Middleware()
class Outer {
  constructor(readonly config: Config) {}
  async handle(ctx: TaskContext, next: () => Promise<unknown>) {
    trail.push(`outer>${ctx.name}:${this.config.concurrency}`);
    const r = await next();
    trail.push('<outer');
    return r;
  }
}

@Middleware()
class Inner {
  async handle(_ctx: TaskContext, next: () => Promise<unknown>) {
    trail.push('inner>');
    const r = await next();
    trail.push('<inner');
    return r;
  }
}

@Middleware()
class Times10 {
  async handle(_ctx: TaskContext, next: () => Promise<unknown>) {
    return ((await next()) as number) * 10;
  }
}

@Middleware()
class Cached {
  handle() {
    return 'cached';
  }
}

@Middleware()
class TwiceNext {
  async handle(_ctx: TaskContext, next: () => Promise<unknown>) {
    await next();
    return next();
  }
}

class Flaky extends Error {
  name = 'Flaky';
}

@Middleware()
class RetryFlaky {
  async handle(_ctx: TaskContext, next: () => Promise<unknown>) {
    try {
      return await next();
    } catch (err) {
      if (err instanceof Flaky) throw new RetryError({ cause: err, maxRetries: 2 });
      throw err;
    }
  }
}

@Middleware()
class Broken {
  handle(): unknown {
    throw new Error('broken middleware');
  }
}

/** Holds `mw.gated` before its body until the test opens the gate; keeps what next() gave. */
const gate: { entered?: () => void; open?: () => void; next?: unknown } = {};

@Middleware()
class Gated {
  async handle(_ctx: TaskContext, next: () => Promise<unknown>) {
    await new Promise<void>((open) => {
      gate.open = open;
      gate.entered?.();
    });
    try {
      return await next();
    } catch (err) {
      gate.next = err;
      throw err;
    }
  }
}

let bodyRuns = 0;
let flakyRuns = 0;

class Tasks {
  @Task({ name: 'mw.add', middlewares: [Inner] })
  add(a: number, b: number) {
    trail.push('body');
    return a + b;
  }

  @Task({ name: 'mw.scaled', middlewares: [Times10] })
  scaled(n: number) {
    return n + 1;
  }

  @Task({ name: 'mw.cached', middlewares: [Cached] })
  cached() {
    bodyRuns++;
    return 'fresh';
  }

  @Task({ name: 'mw.twice', middlewares: [TwiceNext] })
  twice() {
    return 1;
  }

  @Task({ name: 'mw.flaky', middlewares: [RetryFlaky], retryOn: [TypeError] })
  flaky(failures: number) {
    flakyRuns++;
    if (flakyRuns <= failures) throw new Flaky(`flaky ${flakyRuns}`);
    return flakyRuns;
  }

  @Task({ name: 'mw.broken', middlewares: [Broken] })
  broken() {
    return 'never';
  }

  @Task({ name: 'mw.gated', middlewares: [Gated] })
  gated(ctx: TaskContext) {
    bodyRuns++;
    return ctx.signal.aborted ? 'ran aborted' : 'ran';
  }

  @Task({ name: 'mw.plain' })
  plain(n: number) {
    return n;
  }
}

describe('middleware', () => {
  let app: TestApp;
  beforeEach(() => {
    trail.length = 0;
    bodyRuns = 0;
    flakyRuns = 0;
    app = createTestApp({ name: `mw-${process.pid}-${Date.now()}`, config: { logLevel: 'silent' }, concurrency: 3 });
    app.register(Tasks);
  });
  afterEach(async () => {
    await app.close();
  });

  it('runs global middleware (DI-built) around per-task middleware, in onion order', async () => {
    app.use(Outer);
    await app.start();
    expect(await (await app.addTask('mw.add', [2, 3])).result({ timeout: 2_000 })).toBe(5);
    expect(trail).toEqual(['outer>mw.add:3', 'inner>', 'body', '<inner', '<outer']);
  });

  it('changes the result', async () => {
    await app.start();
    expect(await (await app.addTask('mw.scaled', [4])).result({ timeout: 2_000 })).toBe(50);
  });

  it('short-circuits: the body never runs', async () => {
    await app.start();
    expect(await (await app.addTask('mw.cached')).result({ timeout: 2_000 })).toBe('cached');
    expect(bodyRuns).toBe(0);
  });

  it('records QTASKS_ERR_NEXT_CALLED_TWICE when next() is called twice', async () => {
    const rec = await app.runTask('mw.twice');
    expect(rec.status).toBe('error');
    expect(rec.error?.code).toBe(ErrorCodes.NEXT_CALLED_TWICE);
  });

  it('turns an error into a retry with RetryError, beyond the task retry and retryOn', async () => {
    const rec = await app.runTask('mw.flaky', [2]);
    expect(rec.status).toBe('success');
    expect(rec.attempt).toBe(3);
    expect(rec.returning).toBe(3);
  });

  it('ends error with the cause recorded once the retries of a RetryError are spent', async () => {
    const rec = await app.runTask('mw.flaky', [5]);
    expect(rec.status).toBe('error');
    expect(rec.attempt).toBe(3);
    expect(rec.error?.name).toBe('Flaky');
    expect(rec.error?.message).toBe('flaky 3');
  });

  it('records a throwing middleware as the task error; the worker goes on', async () => {
    await app.start();
    const bad = await app.addTask('mw.broken');
    await expect(bad.result({ timeout: 2_000 })).rejects.toBeInstanceOf(TaskFailedError);
    expect((await app.getTask(bad.id))?.error?.message).toBe('broken middleware');
    expect(await (await app.addTask('mw.plain', [7])).result({ timeout: 2_000 })).toBe(7);
  });

  it('a task cancelled while a middleware waits before next() never runs its body; next() rejects', async () => {
    await app.start();
    const entered = new Promise<void>((r) => (gate.entered = r));
    const h = await app.addTask('mw.gated');
    await entered;
    expect(await h.cancel('not now')).toBe(true);
    gate.open!();
    await expect(h.result({ timeout: 2_000 })).rejects.toBeInstanceOf(TaskCancelledError);
    await new Promise((r) => setTimeout(r, 20));
    expect(bodyRuns).toBe(0);
    // what a cancelled run's signal carries (a body that ran would have ended it the same way)
    expect(gate.next).toMatchObject({ reason: 'not now' });
  });

  it('builds no pipeline when no middleware applies', () => {
    expect(app.registry.task('mw.plain')?.pipeline).toBeUndefined();
    app.use(Outer);
    expect(app.registry.task('mw.plain')?.pipeline).toBeDefined();
  });

  it('refuses a class that is not middleware', () => {
    class NotMiddleware {}
    let caught: unknown;
    try {
      app.use(NotMiddleware);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(QTasksError);
    expect((caught as QTasksError).code).toBe(ErrorCodes.BAD_DECORATOR);
  });

  it('RetryError rejects a negative delay', () => {
    expect(() => new RetryError({ delay: -1 })).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_OPTION }));
  });
});
