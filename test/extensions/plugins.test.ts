/**
 * Plugins: every hook point fires with its event, hooks replace args (enqueue, before) and the result
 * (after), a throwing hook is logged and skipped, and plugins are DI-built.
 */
import 'reflect-metadata';
import { ErrorCodes, Hook, HOOK_POINTS, HookEvents, Logger, Plugin, QTasksError, Task, TaskContext } from 'qtasks';
import { createTestApp, TestApp } from 'qtasks/testing';
import { ErrorCollectingLogger } from '../support/error-logger';

const seen: { point: string; name?: string; status?: string; app: boolean }[] = [];

@Plugin()
class Recorder {
  constructor(readonly logger: Logger) {}
  private note(point: string, e: { app: object; record?: { name: string; status: string } }) {
    seen.push({ point, name: e.record?.name, status: e.record?.status, app: e.app === current });
  }
  @Hook('app:start') appStart(e: HookEvents['app:start']) { this.note('app:start', e); }
  @Hook('app:close') appClose(e: HookEvents['app:close']) { this.note('app:close', e); }
  @Hook('worker:start') workerStart(e: HookEvents['worker:start']) { this.note('worker:start', e); }
  @Hook('worker:stop') workerStop(e: HookEvents['worker:stop']) { this.note('worker:stop', e); }
  @Hook('task:enqueue') enqueue(e: HookEvents['task:enqueue']) { this.note('task:enqueue', e); }
  @Hook('task:before') before(e: HookEvents['task:before']) { this.note('task:before', e); }
  @Hook('task:after') after(e: HookEvents['task:after']) { this.note('task:after', e); }
  @Hook('task:success') success(e: HookEvents['task:success']) { this.note('task:success', e); }
  @Hook('task:error') error(e: HookEvents['task:error']) { this.note('task:error', e); }
  @Hook('task:retry') retry(e: HookEvents['task:retry']) { this.note('task:retry', e); }
  @Hook('task:cancel') cancel(e: HookEvents['task:cancel']) { this.note('task:cancel', e); }
}

@Plugin()
class Rewriter {
  @Hook('task:enqueue')
  enqueue(e: HookEvents['task:enqueue']) {
    if (e.record.name === 'pl.echo') return { args: [...e.args, 'enq'] };
    return undefined;
  }
  @Hook('task:before')
  before(e: HookEvents['task:before']) {
    if (e.record.name === 'pl.echo') return { args: [...e.args, 'before'] };
    return undefined;
  }
  @Hook('task:after')
  after(e: HookEvents['task:after']) {
    if (e.record.name === 'pl.echo') return { result: `${String(e.result)}!` };
    return undefined;
  }
}

@Plugin()
class Thrower {
  @Hook('task:before') before() { throw new Error('hook before failed'); }
  @Hook('task:after') async after() { throw new Error('hook after failed'); }
  @Hook('task:success') success() { throw new Error('hook success failed'); }
  @Hook('task:enqueue') enqueue() { throw new Error('hook enqueue failed'); }
}

let attempts = 0;
class Tasks {
  @Task({ name: 'pl.echo' })
  echo(...parts: string[]) { return parts.join('+'); }

  @Task({ name: 'pl.fail', retry: 1 })
  fail() { attempts++; throw new Error('always'); }

  @Task({ name: 'pl.wait' })
  async wait(ctx: TaskContext) {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
  }
}

let current: object;

describe('plugins', () => {
  let app: TestApp;
  let logger: ErrorCollectingLogger;
  beforeEach(() => {
    seen.length = 0;
    attempts = 0;
    logger = new ErrorCollectingLogger();
    app = createTestApp({ name: `pl-${process.pid}-${Date.now()}`, logger });
    current = app;
    app.register(Tasks);
  });
  afterEach(async () => {
    await app.close();
  });

  it('runs a hook at every point, with the app in the event', async () => {
    app.plugin(Recorder);
    await app.start();
    expect(await (await app.addTask('pl.echo', ['a'])).result({ timeout: 2_000 })).toBe('a');
    const failing = await app.addTask('pl.fail');
    await expect(failing.result({ timeout: 2_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_FAILED });
    const waiting = await app.addTask('pl.wait');
    while ((await app.getTask(waiting.id))?.status !== 'process') await new Promise((r) => setTimeout(r, 2));
    await app.cancel(waiting.id, 'stop');
    await expect(waiting.result({ timeout: 2_000 })).rejects.toMatchObject({ code: ErrorCodes.TASK_CANCELLED });
    await app.close();
    const points = new Set(seen.map((s) => s.point));
    expect([...points].sort()).toEqual([...HOOK_POINTS].sort());
    expect(seen.every((s) => s.app)).toBe(true);
    expect(seen.filter((s) => s.point === 'task:retry').map((s) => [s.name, s.status])).toEqual([['pl.fail', 'retry']]);
    expect(seen.filter((s) => s.point === 'task:error').map((s) => [s.name, s.status])).toEqual([['pl.fail', 'error']]);
    expect(seen.filter((s) => s.point === 'task:cancel').map((s) => s.name)).toEqual(['pl.wait']);
    expect(seen.filter((s) => s.point === 'task:success').map((s) => [s.name, s.status])).toEqual([['pl.echo', 'success']]);
    const order = seen.filter((s) => s.name === 'pl.echo').map((s) => s.point);
    expect(order).toEqual(['task:enqueue', 'task:before', 'task:after', 'task:success']);
    expect(seen[0].point).toBe('app:start');
    expect(seen[seen.length - 1].point).toBe('app:close');
  });

  it('replaces args at task:enqueue (stored) and task:before (run), and the result at task:after', async () => {
    app.plugin(new Rewriter());
    await app.start();
    const h = await app.addTask('pl.echo', ['x']);
    expect(await h.result({ timeout: 2_000 })).toBe('x+enq+before!');
    expect((await app.getTask(h.id))?.args).toEqual(['x', 'enq']);
  });

  it('logs and skips a throwing hook: the task and the worker go on', async () => {
    app.plugin(Thrower).plugin(Rewriter);
    await app.start();
    expect(await (await app.addTask('pl.echo', ['y'])).result({ timeout: 2_000 })).toBe('y+enq+before!');
    expect(await (await app.addTask('pl.echo', ['z'])).result({ timeout: 2_000 })).toBe('z+enq+before!');
    expect(logger.errors.length).toBeGreaterThanOrEqual(8);
  });

  it('takes @Plugin classes through register() too, and refuses other classes', () => {
    app.register(Recorder);
    class NotAPlugin {}
    expect(() => app.plugin(new NotAPlugin())).toThrow(QTasksError);
    expect(() => app.plugin(NotAPlugin)).toThrow(expect.objectContaining({ code: ErrorCodes.BAD_DECORATOR }));
  });
});
