/**
 * Retention with the RabbitMQ broker, with either storage: `removeOnComplete` / `removeOnFail` are
 * written in the storage write that ends the task. A reader that looks right after each storage
 * round trip (a hook on the storage's statement or script calls: the moment a `result()` polling
 * the storage may settle) never finds a task that asked to be dropped at its end, nor more tasks of
 * an end than its count keeps.
 */
import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import { QTasks, TaskFailedError } from 'qtasks';
import { AppFactory, BrokerTasks } from 'qtasks/conformance';
import { TestDatabase } from '../postgres/pg-support';
import { rabbitPgEngine, rabbitRedisEngine, trackApps } from './rabbit-support';

const db = new TestDatabase('rret').hooks();
const engines: [string, { factory: AppFactory; cleanup: () => Promise<void>; check: () => Promise<void> }][] = [
  ['redis storage', rabbitRedisEngine('rret')],
  ['postgres storage', rabbitPgEngine(db, 'rret')],
];

/**
 * Runs `look` after every round trip of the app's storage (its PostgreSQL statements or Redis
 * script calls), before the caller hears the answer; the look's own reads are not looked after.
 * Returns what the looks found wrong.
 */
function lookAfterEachRoundTrip(app: QTasks, look: () => Promise<string | undefined>): string[] {
  const storage = app.storage as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const method = typeof storage.q === 'function' ? 'q' : 'call';
  expect(typeof storage[method]).toBe('function');
  const inner = storage[method].bind(storage);
  const looking = new AsyncLocalStorage<boolean>();
  const wrong: string[] = [];
  storage[method] = async (...args: unknown[]) => {
    const out = await inner(...args);
    if (looking.getStore() !== true) {
      const found = await looking.run(true, look);
      if (found !== undefined) wrong.push(`after ${String(args[0])}: ${found}`);
    }
    return out;
  };
  return wrong;
}

describe.each(engines)('RabbitMQ broker + %s: retention written with the end', (_label, engine) => {
  const tracker = trackApps(engine);

  it('a task dropped at its end is never seen ended', async () => {
    const app = (await tracker.make({ suite: 'rret', concurrency: 1 })).register(BrokerTasks);
    await app.start();
    const ids: string[] = [];
    const wrong = lookAfterEachRoundTrip(app, async () => {
      for (const id of ids) {
        const rec = await app.storage.get(id);
        if (rec !== undefined && (rec.status === 'success' || rec.status === 'error')) return `${id} found ${rec.status}`;
      }
      const c = await app.storage.counts();
      if (c.success + c.error > 0) return `counts ${c.success} success, ${c.error} error`;
      return undefined;
    });
    for (let i = 0; i < 4; i++) {
      const ok = await app.addTask('cb.add', [i, 1], { removeOnComplete: true });
      ids.push(ok.id);
      expect(await ok.result({ timeout: 5_000 })).toBe(i + 1);
      const bad = await app.addTask('cb.wait', [0, true], { removeOnFail: true });
      ids.push(bad.id);
      await expect(bad.result({ timeout: 5_000 })).rejects.toBeInstanceOf(TaskFailedError);
      expect(await app.getTask(ok.id)).toBeUndefined();
      expect(await app.getTask(bad.id)).toBeUndefined();
    }
    expect(wrong).toEqual([]);
    expect(await app.manager.counts()).toMatchObject({ success: 0, error: 0 });
  });

  it('a count is kept at every moment, and result() settles with the retention applied', async () => {
    const app = (await tracker.make({ suite: 'rret', concurrency: 1 })).register(BrokerTasks);
    await app.start();
    const wrong = lookAfterEachRoundTrip(app, async () => {
      const c = await app.storage.counts();
      const listed = await app.storage.list({ status: 'success' });
      if (c.success > 2 || listed.length > 2) return `${c.success} success counted, ${listed.length} listed (count 2)`;
      if (c.error > 1) return `${c.error} error counted (count 1)`;
      return undefined;
    });
    const ok: string[] = [];
    for (let i = 0; i < 6; i++) {
      const h = await app.addTask('cb.add', [i, 1], { removeOnComplete: 2 });
      await h.result({ timeout: 5_000 });
      ok.push(h.id);
      expect((await app.manager.list({ status: 'success' })).map((r) => r.id)).toEqual(ok.slice(-2).reverse());
      const bad = await app.addTask('cb.wait', [0, true], { removeOnFail: 1 });
      await expect(bad.result({ timeout: 5_000 })).rejects.toBeInstanceOf(TaskFailedError);
      expect((await app.manager.list({ status: 'error' })).map((r) => r.id)).toEqual([bad.id]);
    }
    expect(wrong).toEqual([]);
    expect(await app.manager.counts()).toMatchObject({ success: 2, error: 1 });
  });
});
