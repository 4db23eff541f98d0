/**
 * App lifecycle: start() idempotent, close() idempotent from any state, waiting result() and
 * stream() calls released by close(), bulk addTasks.
 */
import 'reflect-metadata';
import { ErrorCodes, QTasks, Task } from 'qtasks';

let starts = 0;

class LifeTasks {
  @Task({ name: 'life.add' })
  add(a: number, b: number) {
    starts++;
    return a + b;
  }

  @Task({ name: 'life.order' })
  order(label: string) {
    return label;
  }
}

describe('lifecycle', () => {
  let app: QTasks;
  beforeEach(() => {
    starts = 0;
    app = new QTasks({ name: `life-${Date.now()}`, discover: false, concurrency: 1, config: { logLevel: 'silent' } }).register(LifeTasks);
  });
  afterEach(() => app.close());

  it('start() twice starts one worker', async () => {
    await Promise.all([app.start(), app.start()]);
    await app.start();
    expect(await app.manager.workers()).toHaveLength(1);
    expect(await (await app.addTask('life.add', [1, 1])).result({ timeout: 1_000 })).toBe(2);
    expect(starts).toBe(1);
  });

  it('close() of an app never started or used resolves', async () => {
    await app.close();
    await app.close();
    expect(app.isClosed).toBe(true);
  });

  it('close() releases a waiting result() and stream() with QTASKS_ERR_CLOSED', async () => {
    const h = await app.addTask('life.add', [1, 2]);
    const result = h.result();
    const stream = (async () => {
      for await (const x of h.stream()) void x;
    })();
    await new Promise((r) => setTimeout(r, 10));
    await app.close();
    await expect(result).rejects.toMatchObject({ code: ErrorCodes.CLOSED });
    await expect(stream).rejects.toMatchObject({ code: ErrorCodes.CLOSED });
    expect(starts).toBe(0);
  });

  it('removing or purging a task ends a waiting result() and stream() with QTASKS_ERR_TASK_NOT_FOUND', async () => {
    const a = await app.addTask('life.add', [1, 2]);
    const b = await app.addTask('life.add', [3, 4]);
    const waits = [a, b].flatMap((h) => [
      h.result().catch((e: unknown) => e),
      (async () => {
        for await (const x of h.stream()) void x;
      })().catch((e: unknown) => e),
    ]);
    await new Promise((r) => setTimeout(r, 5));
    expect(await app.manager.remove(a.id)).toBe(true);
    expect(await app.manager.purge('new')).toBe(1);
    for (const w of await Promise.all(waits)) expect(w).toMatchObject({ code: ErrorCodes.TASK_NOT_FOUND });
  });

  it('addTasks enqueues many tasks at once, in order, keeping priorities', async () => {
    const hs = await app.addTasks([
      { name: 'life.order', args: ['c'], opts: { priority: 3 } },
      { name: 'life.order', args: ['a'], opts: { priority: 1 } },
      { name: 'life.order', args: ['b'], opts: { priority: 1 } },
    ]);
    expect(hs).toHaveLength(3);
    expect(await app.addTasks([])).toEqual([]);
    const done: string[] = [];
    app.on('task:success', (e) => done.push(e.record.returning as string));
    await app.start();
    expect(await Promise.all(hs.map((h) => h.result({ timeout: 1_000 })))).toEqual(['c', 'a', 'b']);
    expect(done).toEqual(['a', 'b', 'c']);
    await expect(app.addTasks([{ name: 'life.nope' }])).rejects.toMatchObject({ code: ErrorCodes.TASK_NOT_FOUND });
  });

  it('a delay or timeout of weeks waits without spinning (no timer overflow)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      await app.start();
      const weeks = 40 * 24 * 60 * 60 * 1000;
      const later = await app.addTask('life.add', [1, 1], { delay: weeks });
      const now = await app.addTask('life.add', [2, 2], { timeout: weeks });
      expect(await now.result({ timeout: 1_000 })).toBe(4);
      const pending = later.result({ timeout: weeks }).then(() => 'settled', () => 'rejected');
      const raced = await Promise.race([pending, new Promise((r) => setTimeout(() => r('waiting'), 30))]);
      expect(raced).toBe('waiting');
      await new Promise((r) => setTimeout(r, 30));
      expect(await later.status()).toBe('delayed');
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
