/**
 * Generator tasks and their streams: items of every attempt, the last attempt's list as result,
 * generateHandler, streams ending with the typed error of a failed or cancelled task.
 */
import 'reflect-metadata';
import { ErrorCodes, QTasks, Task, TaskCancelledError, TaskContext, TaskFailedError } from 'qtasks';

const gate = { release: undefined as undefined | (() => void) };

class GenTasks {
  /** Attempt 1 yields 'a1' then fails; attempt 2 yields 'a2', 'b2'. */
  @Task({ name: 'st.retrying', retry: 1 })
  async *retrying(ctx: TaskContext) {
    yield `a${ctx.attempt}`;
    if (ctx.attempt === 1) throw new Error('first attempt fails');
    yield `b${ctx.attempt}`;
  }

  @Task({ name: 'st.mapped', generateHandler: (item: unknown) => ({ wrapped: item }) })
  *mapped(n: number) {
    for (let i = 0; i < n; i++) yield i;
  }

  @Task({ name: 'st.failing' })
  async *failing() {
    yield 1;
    yield 2;
    throw Object.assign(new Error('broken stream'), { code: 'E_STREAM' });
  }

  /** Yields one item, then waits for the gate (or the abort). */
  @Task({ name: 'st.waiting' })
  async *waiting(ctx: TaskContext) {
    yield 'first';
    await new Promise<void>((resolve) => {
      gate.release = resolve;
      ctx.signal.addEventListener('abort', () => resolve());
    });
    yield 'second';
  }

  @Task({ name: 'st.badItem' })
  async *badItem() {
    yield 1;
    yield () => 2;
  }
}

async function collect(it: AsyncIterable<unknown>): Promise<{ items: unknown[]; error?: unknown }> {
  const items: unknown[] = [];
  try {
    for await (const x of it) items.push(x);
    return { items };
  } catch (error) {
    return { items, error };
  }
}

describe('generator tasks and streams', () => {
  let app: QTasks;
  beforeEach(async () => {
    gate.release = undefined;
    app = new QTasks({ name: `st-${Date.now()}`, discover: false, config: { logLevel: 'silent' } }).register(GenTasks);
    await app.start();
  });
  afterEach(() => app.close());

  it('streams the items of every attempt; the result is the last attempt’s list', async () => {
    const h = await app.addTask('st.retrying');
    const { items, error } = await collect(h.stream());
    expect(error).toBeUndefined();
    expect(items).toEqual(['a1', 'a2', 'b2']);
    expect(await h.result()).toEqual(['a2', 'b2']);
    expect(await app.getTask(h.id)).toMatchObject({ attempt: 2, returning: ['a2', 'b2'] });
  });

  it('applies generateHandler to each item before it is stored and streamed', async () => {
    const h = await app.addTask('st.mapped', [2]);
    expect((await collect(h.stream())).items).toEqual([{ wrapped: 0 }, { wrapped: 1 }]);
    expect(await h.result()).toEqual([{ wrapped: 0 }, { wrapped: 1 }]);
  });

  it('a failing generator streams its items, then throws TaskFailedError', async () => {
    const h = await app.addTask('st.failing');
    const { items, error } = await collect(h.stream());
    expect(items).toEqual([1, 2]);
    expect(error).toBeInstanceOf(TaskFailedError);
    expect((error as TaskFailedError).cause.code).toBe('E_STREAM');
  });

  it('a stream is live: items arrive before the task ends; a cancel ends it with TaskCancelledError', async () => {
    const h = await app.addTask('st.waiting');
    const it = h.stream()[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 'first', done: false });
    expect(await h.status()).toBe('process');
    await h.cancel('enough');
    await expect(it.next()).rejects.toBeInstanceOf(TaskCancelledError);
    expect(await app.getTask(h.id)).toMatchObject({ status: 'cancel' });
  });

  it('two readers see the same items', async () => {
    const h = await app.addTask('st.waiting');
    const first = collect(h.stream());
    await new Promise((r) => setTimeout(r, 20));
    gate.release?.();
    const second = collect(h.stream());
    expect((await first).items).toEqual(['first', 'second']);
    expect((await second).items).toEqual(['first', 'second']);
  });

  it('a yielded item that is not JSON fails the task with QTASKS_ERR_NOT_SERIALIZABLE', async () => {
    const h = await app.addTask('st.badItem');
    const { items, error } = await collect(h.stream());
    expect(items).toEqual([1]);
    expect((error as TaskFailedError).cause.code).toBe(ErrorCodes.NOT_SERIALIZABLE);
  });

  it('stream() of an unknown id throws QTASKS_ERR_TASK_NOT_FOUND', async () => {
    const { error } = await collect(app.handle('no-such-task').stream());
    expect(error).toMatchObject({ code: ErrorCodes.TASK_NOT_FOUND });
  });
});
