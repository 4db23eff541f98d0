/**
 * The memory engine's list of finished records: oldest first through growth, wrap-around and
 * shrinking, stale entries (dropped, retried, finished again) skipped.
 */
import { FinishedList } from '../../src/engines/memory/finished-list';
import type { MemRecord } from '../../src/engines/memory/mem-record';
import { MemoryBroker, MemoryStorage, QTasks, Task } from 'qtasks';

@Task({ name: 'fl.inc' })
class Inc {
  run(x: number) {
    return x + 1;
  }
}

@Task({ name: 'fl.fail', retry: 0 })
class Fail {
  run() {
    throw new Error('no');
  }
}

type Fake = { key: string; live: boolean; status: string; finishedAt: number | undefined };
const rec = (key: string, finishedAt: number): Fake => ({ key, live: true, status: 'success', finishedAt });
const asRec = (r: Fake): MemRecord => r as unknown as MemRecord;

/** Takes every live entry, oldest first. */
function drain(list: FinishedList): string[] {
  const out: string[] = [];
  for (let r = list.peek(); r !== undefined; r = list.peek()) {
    out.push(r.key);
    list.shift();
  }
  return out;
}

describe('memory finished list', () => {
  it('gives entries oldest first while pushes and shifts interleave across many growths and wraps', () => {
    const list = new FinishedList('success');
    const expected: string[] = [];
    let next = 0;
    let taken: string[] = [];
    for (let round = 0; round < 50; round++) {
      // push more than is taken: the ring wraps and grows
      for (let i = 0; i < 37 + round; i++) {
        const r = rec(`r${next}`, next);
        next++;
        list.push(asRec(r), r.finishedAt!);
        expected.push(r.key);
      }
      for (let i = 0; i < 20; i++) {
        const r = list.peek();
        if (r === undefined) break;
        taken.push(r.key);
        list.shift();
      }
      expect(list.size).toBe(expected.length - taken.length);
    }
    taken = taken.concat(drain(list));
    expect(taken).toEqual(expected);
    expect(list.size).toBe(0);
    expect(list.peek()).toBeUndefined();
  });

  it('skips stale entries: dropped, of another status, finished again since', () => {
    const list = new FinishedList('success');
    const a = rec('a', 1);
    const b = rec('b', 2);
    const c = rec('c', 3);
    const d = rec('d', 4);
    for (const r of [a, b, c, d]) list.push(asRec(r), r.finishedAt!);
    a.live = false;
    b.status = 'new';
    c.finishedAt = 10;
    list.push(asRec(c), 10);
    expect(drain(list)).toEqual(['d', 'c']);
  });

  it('shrinks once emptied and still keeps order', () => {
    const list = new FinishedList('error');
    const all: Fake[] = [];
    for (let i = 0; i < 10_000; i++) {
      const r = { ...rec(`e${i}`, i), status: 'error' };
      all.push(r);
      list.push(asRec(r), i);
    }
    for (let i = 0; i < 9_990; i++) list.shift();
    expect(list.size).toBe(10);
    for (let i = 10_000; i < 10_005; i++) {
      const r = { ...rec(`e${i}`, i), status: 'error' };
      list.push(asRec(r), i);
    }
    expect(drain(list)).toEqual(Array.from({ length: 15 }, (_, k) => `e${9_990 + k}`));
    expect((list as unknown as { recs: unknown[] }).recs.length).toBeLessThanOrEqual(1024);
    list.clear();
    expect(list.size).toBe(0);
  });

  it('keeps at most maxFinished finished records in a storage, dropping the oldest of any status first', async () => {
    const app = new QTasks({ name: `fl-${process.pid}`, discover: false, concurrency: 3, broker: new MemoryBroker(), storage: new MemoryStorage({ maxFinished: 5 }), config: { logLevel: 'silent' } });
    app.register(Inc, Fail);
    try {
      await app.start();
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const h = i % 4 === 3 ? await app.addTask('fl.fail', []) : await app.addTask('fl.inc', [i]);
        ids.push(h.id);
        await h.result().catch(() => undefined);
      }
      const counts = await app.manager.counts();
      expect(counts.success + counts.error).toBe(5);
      for (const id of ids.slice(0, 7)) expect(await app.getTask(id)).toBeUndefined();
      const kept = await Promise.all(ids.slice(7).map((id) => app.getTask(id)));
      expect(kept.map((r) => r?.status)).toEqual(['error', 'success', 'success', 'success', 'error']);
    } finally {
      await app.close();
    }
  });
  it('settles every handle of a batch larger than maxFinished whose tasks all ended before result() was called', async () => {
    const app = new QTasks({ name: `fl-batch-${process.pid}`, discover: false, concurrency: 50, broker: new MemoryBroker(), storage: new MemoryStorage({ maxFinished: 100 }), config: { logLevel: 'silent' } });
    app.register(Inc, Fail);
    try {
      await app.start();
      // synchronous tasks: the worker ends all of them before the first result() call below
      const handles = await Promise.all(Array.from({ length: 450 }, (_, i) => (i % 50 === 7 ? app.addTask('fl.fail', []) : app.addTask('fl.inc', [i]))));
      await new Promise((r) => setImmediate(r));
      expect((await app.manager.counts()).success + (await app.manager.counts()).error).toBe(100);
      const settled = await Promise.allSettled(handles.map((h) => h.result()));
      settled.forEach((s, i) => {
        if (i % 50 === 7) expect(s.status === 'rejected' && (s.reason as { code?: string }).code).toBe('QTASKS_ERR_TASK_FAILED');
        else expect(s).toEqual({ status: 'fulfilled', value: i + 1 });
      });
      // a task dropped by the cap is gone for everyone else: a new handle, getTask
      await expect(app.handle(handles[0].id).result()).rejects.toMatchObject({ code: 'QTASKS_ERR_TASK_NOT_FOUND' });
      expect(await app.getTask(handles[0].id)).toBeUndefined();
      expect(await handles[0].status()).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('does not settle the handle of a task removed by an operator, even one still held by its handle', async () => {
    const app = new QTasks({ name: `fl-rm-${process.pid}`, discover: false, concurrency: 3, broker: new MemoryBroker(), storage: new MemoryStorage({ maxFinished: 5 }), config: { logLevel: 'silent' } });
    app.register(Inc);
    try {
      await app.start();
      const h = await app.addTask('fl.inc', [1]);
      expect(await h.result()).toBe(2);
      expect(await app.manager.remove(h.id)).toBe(true);
      await expect(h.result()).rejects.toMatchObject({ code: 'QTASKS_ERR_TASK_NOT_FOUND' });
    } finally {
      await app.close();
    }
  });
});

