/**
 * The tasks a notifier remembers as enqueued here while listening (Redis, PostgreSQL, RabbitMQ):
 * at most 20 000, the oldest noted goes first (re-noting keeps the place), forgotten ones do not
 * count. A remembered task's heard end answers `result()` without a read; a task not remembered
 * is read from storage.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { EngineContext } from '../../src/engine/broker';
import { FinalWatch } from '../../src/engines/shared/final-watch';
import type { TaskRecord } from '../../src/task/task-record';

const CAP = 20_000;

function rec(id: string, from: string): TaskRecord {
  return { id, status: 'success', result: from } as unknown as TaskRecord;
}

function watch(): { fw: FinalWatch; reads: () => number } {
  let reads = 0;
  const storage = {
    get: (id: string) => {
      reads++;
      return Promise.resolve(rec(id, 'read'));
    },
  };
  const ctx = { listens: () => false, emit: () => undefined, logger: { warn: () => undefined } } as unknown as EngineContext;
  const fw = new FinalWatch(storage as never, ctx, { epoch: () => 1, live: () => true, ready: () => Promise.resolve() });
  return { fw, reads: () => reads };
}

/** Hears an end for each of `ids`, then tells which ones were remembered (answered without a read). */
async function remembered(fw: FinalWatch, ids: string[]): Promise<Set<string>> {
  for (const id of ids) fw.onRecord(rec(id, 'heard'));
  const out = new Set<string>();
  const got = await Promise.all(ids.map((id) => fw.waitFinal(id)));
  got.forEach((r, i) => {
    if ((r as unknown as { result: string }).result === 'heard') out.add(ids[i]);
  });
  return out;
}

const range = (p: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => p + (from + i));

it('keeps the last 20 000 noted, the oldest goes first', async () => {
  const { fw, reads } = watch();
  fw.noteEnqueued(range('t', 0, CAP));
  fw.noteEnqueued(['x', 'y']);
  const kept = await remembered(fw, ['t0', 't1', 't2', `t${CAP - 1}`, 'x', 'y']);
  expect([...kept].sort()).toEqual(['t2', `t${CAP - 1}`, 'x', 'y'].sort());
  expect(reads()).toBe(2);
  fw.close();
});

it('does not count forgotten tasks, and a task noted again keeps its place', async () => {
  const { fw } = watch();
  fw.noteEnqueued(range('t', 0, CAP));
  fw.forget(['t0']);
  fw.noteEnqueued(['x']); // fills the freed place: nothing goes
  fw.noteEnqueued(['t2']); // full: t1 goes; t2 stays in its place
  fw.noteEnqueued(['y']); // fills the place t1 left
  fw.noteEnqueued(['z']); // t2 goes (noted before t3)
  const kept = await remembered(fw, ['t0', 't1', 't2', 't3', 'x', 'y', 'z']);
  expect([...kept].sort()).toEqual(['t3', 'x', 'y', 'z']);
  fw.close();
});

it('forgets everything on forgetAll and fills again from empty', async () => {
  const { fw } = watch();
  fw.noteEnqueued(range('t', 0, CAP));
  fw.forgetAll();
  fw.noteEnqueued(range('u', 0, CAP));
  const kept = await remembered(fw, ['t0', `t${CAP - 1}`, 'u0', `u${CAP - 1}`]);
  expect([...kept].sort()).toEqual(['u0', `u${CAP - 1}`]);
  fw.close();
});

it('matches the oldest-first map over long mixed runs of notes, forgets and results', async () => {
  // the model: a Map in noting order, its first key goes when full
  const model = new Map<string, true>();
  const { fw } = watch();
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor((seed / 2147483648) * n);
  };
  let next = 0;
  let evicted = 0;
  const used: string[] = [];
  const results: Promise<unknown>[] = [];
  for (let step = 0; step < 90_000; step++) {
    const op = rnd(10);
    if (op < 8) {
      const ids: string[] = [];
      for (let k = 1 + rnd(3); k > 0; k--) ids.push(rnd(8) === 0 && used.length > 0 ? used[used.length - 1 - rnd(Math.min(used.length, 30_000))] : `n${next++}`);
      for (const id of ids) {
        if (model.size >= CAP && model.delete(model.keys().next().value as string)) evicted++;
        model.set(id, true);
        used.push(id);
      }
      fw.noteEnqueued(ids);
    } else if (op < 9) {
      const id = used[used.length - 1 - rnd(Math.min(used.length, 25_000))];
      model.delete(id);
      fw.forget([id]);
    } else {
      // result() takes a remembered task off the list
      const id = used[used.length - 1 - rnd(Math.min(used.length, 25_000))];
      const was = model.delete(id);
      if (!was) continue;
      fw.onRecord(rec(id, 'heard'));
      results.push(fw.waitFinal(id));
    }
  }
  await Promise.all(results);
  const all = [...new Set(used)];
  const kept = await remembered(fw, all);
  expect(evicted).toBeGreaterThan(50_000);
  expect(model.size).toBeGreaterThan(CAP / 2);
  expect(kept.size).toBe(model.size);
  for (const id of model.keys()) expect(kept.has(id)).toBe(true);
  fw.close();
});

/** A full garbage collection (V8's gc(), reached without starting Node with --expose-gc). */
function collect(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

it('holds no heard end once result() took it, in whatever order tasks are awaited', async () => {
  const { fw } = watch();
  const refs: WeakRef<TaskRecord>[] = [];
  const hear = (id: string): void => {
    const r = rec(id, 'heard');
    refs.push(new WeakRef(r));
    fw.onRecord(r);
  };
  const takes = async (ids: string[]): Promise<number> => {
    let heard = 0;
    for (const id of ids) if (((await fw.waitFinal(id)) as unknown as { result: string }).result === 'heard') heard++;
    return heard;
  };
  // one at a time: enqueued, ended, awaited
  for (let i = 0; i < 50; i++) {
    fw.noteEnqueued([`a${i}`]);
    hear(`a${i}`);
    expect(await takes([`a${i}`])).toBe(1);
  }
  // a batch awaited in enqueue order, another in reverse, another shuffled
  for (const order of [(x: string[]) => x, (x: string[]) => x.slice().reverse(), (x: string[]) => x.slice(25).concat(x.slice(0, 25).reverse())]) {
    const ids = range(`b${refs.length}-`, 0, 50);
    fw.noteEnqueued(ids);
    ids.forEach(hear);
    expect(await takes(order(ids))).toBe(50);
  }
  await new Promise((r) => setImmediate(r));
  collect();
  expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0);
  fw.close();
});
