/**
 * The test kit: createTestApp (in-memory, discover false), runTask (in-process, retries included,
 * returns the final record) and drain().
 */
import 'reflect-metadata';
import { ErrorCodes, MemoryBroker, Task, TaskContext } from 'qtasks';
import { createTestApp, TestApp } from 'qtasks/testing';

class KitTasks {
  @Task({ name: 'kit.add' })
  add(a: number, b: number) {
    return a + b;
  }

  @Task({ name: 'kit.flaky', retry: 2, backoff: { type: 'fixed', delay: 20 } })
  flaky(ctx: TaskContext, failures: number) {
    if (ctx.attempt <= failures) throw new Error(`attempt ${ctx.attempt}`);
    return ctx.attempt;
  }

  @Task({ name: 'kit.dropped', removeOnComplete: true })
  dropped() {
    return 'gone';
  }

  @Task({ name: 'kit.gen' })
  async *gen(n: number) {
    for (let i = 0; i < n; i++) yield i;
  }

  @Task({ name: 'kit.waitAbort' })
  async waitAbort(ctx: TaskContext) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3_000);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return 'ran out';
  }

  @Task({ name: 'kit.slow' })
  async slow(ms: number) {
    await new Promise((r) => setTimeout(r, ms));
    return ms;
  }
}

@Task({ name: 'kit.unregistered' })
class NotRegistered {
  run() {}
}

describe('test kit', () => {
  let app: TestApp;
  beforeEach(() => {
    app = createTestApp({ name: `kit-${Date.now()}`, config: { logLevel: 'silent' } }).register(KitTasks);
  });
  afterEach(() => app.close());

  it('createTestApp is in memory and does not discover', async () => {
    expect(app.broker).toBeInstanceOf(MemoryBroker);
    await expect(app.addTask('kit.unregistered')).rejects.toMatchObject({ code: ErrorCodes.TASK_NOT_FOUND });
    void NotRegistered;
  });

  it('runTask runs without a worker and returns the final record', async () => {
    const rec = await app.runTask('kit.add', [2, 3]);
    expect(rec).toMatchObject({ name: 'kit.add', status: 'success', returning: 5, attempt: 1, args: [2, 3] });
    expect((await app.manager.workers()).length).toBe(0);
  });

  it('runTask includes retries: success on the third attempt', async () => {
    const rec = await app.runTask('kit.flaky', [2]);
    expect(rec).toMatchObject({ status: 'success', returning: 3, attempt: 3 });
  });

  it('runTask returns an error record instead of throwing when retries run out', async () => {
    const rec = await app.runTask('kit.flaky', [5]);
    expect(rec).toMatchObject({ status: 'error', attempt: 3, error: { message: 'attempt 3' } });
  });

  it('runTask returns the final record of a removeOnComplete task', async () => {
    expect(await app.runTask('kit.dropped')).toMatchObject({ status: 'success', returning: 'gone' });
    expect(await app.manager.list()).toEqual([]);
  });

  it('runTask of an unknown task rejects QTASKS_ERR_TASK_NOT_FOUND', async () => {
    await expect(app.runTask('kit.nope')).rejects.toMatchObject({ code: ErrorCodes.TASK_NOT_FOUND });
  });

  it('runTask of a generator returns the list of items', async () => {
    expect((await app.runTask('kit.gen', [3])).returning).toEqual([0, 1, 2]);
  });

  it('a task run by runTask can be cancelled', async () => {
    const run = app.runTask('kit.waitAbort');
    let running: string | undefined;
    for (let i = 0; i < 200 && !running; i++) {
      running = (await app.manager.list({ status: 'process' }))[0]?.id;
      if (!running) await new Promise((r) => setTimeout(r, 5));
    }
    expect(await app.cancel(running!, 'stop')).toBe(true);
    expect(await run).toMatchObject({ id: running, status: 'cancel', cancelReason: 'stop' });
  });

  it('drain() waits until nothing is queued or running, delayed tasks aside', async () => {
    await app.start();
    const hs = await Promise.all([30, 10, 20].map((ms) => app.addTask('kit.slow', [ms])));
    const later = await app.addTask('kit.slow', [1], { delay: 60_000 });
    await app.drain();
    for (const h of hs) expect(await h.status()).toBe('success');
    expect(await later.status()).toBe('delayed');
    const counts = await app.manager.counts();
    expect(counts).toMatchObject({ success: 3, new: 0, process: 0, delayed: 1 });
  });

  it('drain() waits for retries waiting on their backoff', async () => {
    await app.start();
    const h = await app.addTask('kit.flaky', [1]);
    await app.drain();
    expect(await app.getTask(h.id)).toMatchObject({ status: 'success', attempt: 2 });
  });

  it('drain() with tasks queued and no worker says to start it', async () => {
    await app.addTask('kit.add', [1, 1]);
    await expect(app.drain()).rejects.toMatchObject({ code: ErrorCodes.INVALID_STATE });
  });

  it('drain() on an idle app resolves at once', async () => {
    await app.start();
    await expect(app.drain()).resolves.toBeUndefined();
  });
});
