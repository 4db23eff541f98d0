/**
 * A generator's items on the RabbitMQ broker: what it yields while one write is out goes in the
 * next write together (`appendItems` of the storage's record writer), and readers still hear every
 * item, in order. The record writers' `appendItems` on each storage: the index of the first item,
 * -1 (nothing stored) for an unknown id, bursts longer than one write, and an item that is not
 * JSON refused before anything is stored.
 */
import 'reflect-metadata';
import { ErrorCodes, QTasks } from 'qtasks';
import type { RecordWriter } from 'qtasks';
import { AppFactory, BrokerTasks, probe } from 'qtasks/conformance';
import { TestDatabase } from '../postgres/pg-support';
import { rabbitPgEngine, rabbitRedisEngine, trackApps } from './rabbit-support';

const db = new TestDatabase('ritems').hooks();
const engines: [string, { factory: AppFactory; cleanup: () => Promise<void>; check: () => Promise<void> }][] = [
  ['redis storage', rabbitRedisEngine('ritems')],
  ['postgres storage', rabbitPgEngine(db, 'ritems')],
];

beforeEach(() => probe.reset());

/** The ids of `n` new tasks (not started: they stay `new`). */
async function newTasks(app: QTasks, n: number): Promise<string[]> {
  const hs = await app.addTasks(Array.from({ length: n }, () => ({ name: 'cb.add', args: [1, 2] })));
  return hs.map((h) => h.id);
}

describe.each(engines)('RabbitMQ broker + %s', (_label, engine) => {
  const tracker = trackApps(engine, { restoreMocks: true });

  it('stores a burst of items in few writes (none one by one) and streams every item in order', async () => {
    const app = (await tracker.make({ suite: 'ritems' })).register(BrokerTasks);
    const writer = app.storage.recordWriter!;
    const many = jest.spyOn(writer as Required<RecordWriter>, 'appendItems');
    const one = jest.spyOn(writer, 'appendItem');
    await app.start();
    const h = await app.addTask('cb.gen', [3_000, 0]);
    const live: unknown[] = [];
    for await (const x of h.stream()) live.push(x);
    const all = Array.from({ length: 3_000 }, (_, i) => i * 10);
    expect(live).toEqual(all);
    expect(await h.result({ timeout: 10_000 })).toEqual(all);
    expect(await app.storage.items(h.id)).toEqual(all);
    expect(one).not.toHaveBeenCalled();
    // one write out at a time: what was yielded meanwhile went together
    expect(many.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(many.mock.calls.length).toBeLessThan(300);
  });

  it('appendItems answers the index of the first item, -1 for an unknown id, and refuses an item that is not JSON', async () => {
    const app = (await tracker.make({ suite: 'ritems' })).register(BrokerTasks);
    await app.init();
    const writer = app.storage.recordWriter!;
    const [a, b] = await newTasks(app, 2);
    expect(await writer.appendItem(a, 'x')).toBe(0);
    expect(await writer.appendItems!(a, ['p', { q: 1 }, null])).toBe(1);
    expect(await app.storage.items(a)).toEqual(['x', 'p', { q: 1 }, null]);
    expect(await writer.appendItems!('no-such-task', [1, 2])).toBe(-1);
    expect(await app.storage.items('no-such-task')).toEqual([]);
    // longer than one write (1,000 items): every item, in order, after those already there
    const burst = Array.from({ length: 2_345 }, (_, i) => ({ i }));
    expect(await writer.appendItems!(b, [0])).toBe(0);
    expect(await writer.appendItems!(b, burst)).toBe(1);
    expect(await app.storage.items(b)).toEqual([0, ...burst]);
    // a BigInt is not JSON: refused with its code, and the items before it in the call are not stored
    await expect(writer.appendItems!(a, ['fine', 1n])).rejects.toMatchObject({ code: ErrorCodes.NOT_SERIALIZABLE });
    expect(await app.storage.items(a)).toEqual(['x', 'p', { q: 1 }, null]);
  });
});

describe('memory storage record writer', () => {
  it('appendItems answers the index of the first item and -1 for an unknown id', async () => {
    const app = new QTasks({ name: `ritems-mem-${process.pid}`, discover: false, config: { logLevel: 'silent' } }).register(BrokerTasks);
    try {
      await app.init();
      const writer = app.storage.recordWriter!;
      const [a] = await newTasks(app, 1);
      expect(await writer.appendItems!(a, ['p', { q: 1 }])).toBe(0);
      expect(await writer.appendItems!(a, ['r'])).toBe(2);
      expect(await app.storage.items(a)).toEqual(['p', { q: 1 }, 'r']);
      expect(await writer.appendItems!('no-such-task', [1])).toBe(-1);
      // an item that cannot be copied stores none of its call
      await expect(writer.appendItems!(a, ['fine', () => 1])).rejects.toThrow();
      expect(await app.storage.items(a)).toEqual(['p', { q: 1 }, 'r']);
    } finally {
      await app.close();
    }
  });
});
