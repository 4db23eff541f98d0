/**
 * How the RabbitMQ broker's record changes reach the Redis storage: the changes of a turn go in one
 * script call, at most two calls are in flight (what is asked meanwhile leaves together once one is
 * answered), and a change whose text Lua's JSON decoder would refuse (a lone surrogate) is stored
 * as it would have been sent on its own, without failing the other changes of its call.
 */
import 'reflect-metadata';
import { Task } from 'qtasks';
import { waitFor } from 'qtasks/conformance';
import type { RedisStorage } from '../../src/engines/redis/redis-storage';
import type { ScriptFn } from '../../src/engines/redis/redis-link';
import { rabbitRedisEngine, trackApps } from './rabbit-support';
import type { TaskRecord } from '../../src/task/task-record';

const engine = rabbitRedisEngine('rrw');
const tracker = trackApps(engine, { restoreMocks: true });

class Noop {
  @Task({ name: 'rrw.noop' })
  run(): number {
    return 1;
  }
}

/** One turn of the event loop. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

it('changes asked while two transition calls are in flight wait, then leave together in one call', async () => {
  const app = (await tracker.make({ suite: 'rrw' })).register(Noop);
  const handles = await app.addTasks(Array.from({ length: 8 }, () => ({ name: 'rrw.noop', args: [] })));
  const ids = handles.map((h) => h.id);
  const storage = app.storage as unknown as RedisStorage;
  const writer = app.storage.recordWriter!;
  // each transitions call is held until released: the calls in flight are known exactly
  const script = storage.link.script.bind(storage.link);
  const calls: { changes: number; release: () => void }[] = [];
  jest.spyOn(storage.link, 'script').mockImplementation((name: string): ScriptFn => {
    const fn = script(name);
    if (name !== 'rwTransitions') return fn;
    return (keys, args) =>
      new Promise<void>((resolve) => calls.push({ changes: (JSON.parse(String(args[5])) as unknown[]).length, release: resolve })).then(() => fn(keys, args));
  });
  const done: Promise<unknown>[] = [];
  // one change per turn, six turns: the first two go at once, the four others wait
  for (const id of ids.slice(0, 6)) {
    done.push(writer.transition(id, ['new'], { progress: 1 }));
    await turn();
  }
  expect(calls.map((c) => c.changes)).toEqual([1, 1]);
  calls[0].release();
  await done[0];
  await waitFor(() => calls.length === 3, 'the third call');
  expect(calls.map((c) => c.changes)).toEqual([1, 1, 4]);
  for (const c of calls) c.release();
  const stored = await Promise.all(done);
  expect(stored.every((r) => (r as { progress?: unknown } | undefined)?.progress === 1)).toBe(true);
});

it('cancel reasons with a lone surrogate are stored with U+FFFD in its place; the other cancels of the same call apply', async () => {
  const app = (await tracker.make({ suite: 'rrw' })).register(Noop);
  const handles = await app.addTasks(Array.from({ length: 3 }, () => ({ name: 'rrw.noop', args: [] })));
  // the three cancels are asked in one turn: one script call
  const reasons = ['plain', 'bad \ud800 half', 'last'];
  expect(await Promise.all(handles.map((h, i) => app.manager.cancel(h.id, reasons[i])))).toEqual([true, true, true]);
  const recs = await Promise.all(handles.map((h) => app.manager.get(h.id)));
  expect(recs.map((r) => r?.status)).toEqual(['cancel', 'cancel', 'cancel']);
  expect(recs.map((r) => r?.cancelReason)).toEqual(['plain', 'bad \ufffd half', 'last']);
  expect((await app.manager.counts()).cancel).toBe(3);
});

it('a task that ends error and is queued again in the same call leaves no id on the finished list and counts right', async () => {
  const app = (await tracker.make({ suite: 'rrw' })).register(Noop);
  const [h] = await app.addTasks([{ name: 'rrw.noop', args: [] }]);
  const storage = app.storage as unknown as RedisStorage;
  const writer = app.storage.recordWriter!;
  expect((await writer.transition(h.id, ['new'], { status: 'process', attempt: 1, startedAt: Date.now(), workerId: 'w1' }))?.status).toBe('process');
  // both asked in one turn: one script call, the end's push on the error list before the retry's removal
  const [ended, again] = await Promise.all([
    writer.transition(h.id, ['process'], { status: 'error', error: { name: 'Error', message: 'boom' }, finishedAt: Date.now() }),
    writer.transition(h.id, ['error'], { status: 'new', error: undefined, finishedAt: undefined }),
  ]);
  expect(ended?.status).toBe('error');
  expect(again?.status).toBe('new');
  expect(await storage.link.cmd.lrange(storage.keys.doneError, 0, -1)).toEqual([]);
  // the stored counts themselves (a reader would show a negative one as 0)
  const counts = await storage.link.cmd.hgetall(storage.keys.cnt);
  expect({ new: Number(counts.new ?? 0), process: Number(counts.process ?? 0), error: Number(counts.error ?? 0) }).toEqual({ new: 1, process: 0, error: 0 });
  // no expiry left on a record queued again
  expect(await storage.link.cmd.pttl(storage.keys.task + h.id)).toBe(-1);
});

it('an end given the claimed record leaves the stored body out of the reply and returns the record as stored; a different task under its id comes back whole', async () => {
  const app = (await tracker.make({ suite: 'rrw' })).register(Noop);
  const body = 'b'.repeat(64);
  const [h, h2] = await app.addTasks([
    { name: 'rrw.noop', args: [{ body }] },
    { name: 'rrw.noop', args: [{ body }] },
  ]);
  const storage = app.storage as unknown as RedisStorage;
  const writer = app.storage.recordWriter!;
  const script = storage.link.script.bind(storage.link);
  const replies: string[] = [];
  jest.spyOn(storage.link, 'script').mockImplementation((name: string): ScriptFn => {
    const fn = script(name);
    if (name !== 'rwTransitions') return fn;
    return async (keys, args) => {
      const res = await fn(keys, args);
      replies.push(String(res));
      return res;
    };
  });
  const claim = { status: 'process' as const, attempt: 1, startedAt: Date.now(), workerId: 'w1' };
  const claimed = await writer.transition(h.id, ['new'], claim);
  expect(claimed?.seq).toEqual(expect.any(Number));
  const ended = await writer.transition(h.id, ['process'], { status: 'success', returning: 2, finishedAt: Date.now() }, undefined, claimed);
  expect(replies[1]).not.toContain(body);
  expect(ended).toEqual(await app.manager.get(h.id));
  expect(ended).toMatchObject({ status: 'success', returning: 2, args: [{ body }], attempt: 1, workerId: 'w1' });
  // a record held for another task of that id (its seq differs): the stored body is read back
  const other = await writer.transition(h2.id, ['new'], claim);
  const stale = { ...other!, seq: other!.seq! + 1_000, args: ['stale'] };
  const ended2 = await writer.transition(h2.id, ['process'], { status: 'error', error: { name: 'Error', message: 'x' }, finishedAt: Date.now() }, undefined, stale);
  expect(replies[3]).toContain(body);
  expect(ended2).toEqual(await app.manager.get(h2.id));
  expect(ended2?.args).toEqual([{ body }]);
});

it('an insert adds each new id once, in the order given with consecutive seqs, and counts and indexes only those added', async () => {
  const app = (await tracker.make({ suite: 'rrw' })).register(Noop);
  const [old] = await app.addTasks([{ name: 'rrw.noop', args: [] }]);
  const storage = app.storage as unknown as RedisStorage;
  const writer = app.storage.recordWriter!;
  const now = Date.now();
  const rec = (id: string, args: unknown[], extra: Partial<TaskRecord> = {}): TaskRecord => ({ id, name: 'rrw.noop', status: 'new', priority: 0, args, attempt: 0, createdAt: now, updatedAt: now, ...extra });
  const stored = await writer.insert([
    rec('rrw-a', [1]),
    rec(old.id, ['not written']),
    rec('rrw-b', [2], { priority: 3 }),
    rec('rrw-a', ['second copy']),
    rec('rrw-c', [3], { status: 'delayed', runAt: now + 60_000 }),
  ]);
  expect(stored.map((r) => r.args)).toEqual([[1], [], [2], [1], [3]]);
  const a = await app.manager.get('rrw-a');
  const b = await app.manager.get('rrw-b');
  const c = await app.manager.get('rrw-c');
  expect([b!.seq! - a!.seq!, c!.seq! - b!.seq!]).toEqual([1, 1]);
  expect(a!.seq).toBeGreaterThan((await app.manager.get(old.id))!.seq!);
  expect(b).toMatchObject({ priority: 3, status: 'new' });
  expect(c).toMatchObject({ status: 'delayed', runAt: now + 60_000 });
  const counts = await storage.link.cmd.hgetall(storage.keys.cnt);
  expect({ new: Number(counts.new), delayed: Number(counts.delayed) }).toEqual({ new: 3, delayed: 1 });
  expect(await storage.link.cmd.zrange(storage.keys.all, 0, -1)).toEqual([old.id, 'rrw-a', 'rrw-b', 'rrw-c']);
});
