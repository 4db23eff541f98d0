/**
 * How a generator's items reach a broker that stores them with a round trip (no `immediate`):
 * in order, one store call out at a time, the items yielded meanwhile together in the next call,
 * the generator held back once 1,000 items wait, every item stored before the drain ends, and a
 * failed store failing the attempt.
 */
import type { Broker } from '../../src/engine/broker';
import { ResolvedConfig } from '../../src/config';
import type { TaskRecord } from '../../src/task/task-record';
import { drainGenerator } from '../../src/worker/generator-drain';

/** A broker whose store calls wait until the test answers them. */
class SlowBroker {
  /** Each call's items, in the order the calls came. */
  readonly calls: unknown[][] = [];
  private answers: { ok: () => void; fail: (err: Error) => void }[] = [];
  out = 0;
  maxOut = 0;

  constructor(withMany: boolean) {
    if (!withMany) this.pushItems = undefined;
  }

  pushItem(_rec: TaskRecord, item: unknown): Promise<void> {
    return this.store([item]);
  }

  pushItems: ((rec: TaskRecord, items: unknown[]) => Promise<void>) | undefined = (_rec, items) => this.store(items.slice());

  private store(items: unknown[]): Promise<void> {
    this.calls.push(items);
    this.out++;
    this.maxOut = Math.max(this.maxOut, this.out);
    return new Promise<void>((ok, fail) => this.answers.push({ ok, fail })).finally(() => this.out--);
  }

  /** Answers the oldest open call (with `err`: fails it). */
  answer(err?: Error): void {
    const a = this.answers.shift();
    if (!a) throw new Error('no store call is open');
    if (err) a.fail(err);
    else a.ok();
  }

  get open(): number {
    return this.answers.length;
  }
}

const turn = () => new Promise<void>((r) => setImmediate(r));

function drain(broker: SlowBroker, gen: Iterator<unknown> | AsyncIterator<unknown>) {
  let settled = false;
  const p = drainGenerator(gen, {
    rec: { id: 't1' } as TaskRecord,
    broker: broker as unknown as Broker,
    config: new ResolvedConfig({}, {}),
    handler: undefined,
    ended: () => false,
  });
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { p, settled: () => settled };
}

/** A generator of 0 … n-1 that counts how many items it was asked for. */
function counted(n: number) {
  const seen = { asked: 0 };
  function* gen() {
    for (let i = 0; i < n; i++) {
      seen.asked++;
      yield i;
    }
  }
  return { gen: gen(), seen };
}

describe('generator items on a broker with round trips', () => {
  it('stores items in order, one call out at a time, batching what was yielded meanwhile', async () => {
    const broker = new SlowBroker(true);
    const { gen, seen } = counted(10);
    const d = drain(broker, gen);
    await turn();
    // the first item went alone at once; the other nine were yielded while it was out
    expect(seen.asked).toBe(10);
    expect(broker.calls).toEqual([[0]]);
    expect(d.settled()).toBe(false);
    broker.answer();
    await turn();
    expect(broker.calls).toEqual([[0], [1, 2, 3, 4, 5, 6, 7, 8, 9]]);
    // the drain ends only once every item is stored
    expect(d.settled()).toBe(false);
    broker.answer();
    await expect(d.p).resolves.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(broker.maxOut).toBe(1);
  });

  it('sends one item per call, in order and one at a time, to a broker without pushItems', async () => {
    const broker = new SlowBroker(false);
    const d = drain(broker, [1, 2, 3][Symbol.iterator]());
    for (let i = 0; i < 3; i++) {
      await turn();
      expect(broker.open).toBe(1);
      broker.answer();
    }
    await expect(d.p).resolves.toEqual([1, 2, 3]);
    expect(broker.calls).toEqual([[1], [2], [3]]);
    expect(broker.maxOut).toBe(1);
  });

  it('holds the generator back while 1,000 items wait for the store', async () => {
    const broker = new SlowBroker(true);
    const { gen, seen } = counted(5_000);
    const d = drain(broker, gen);
    await turn();
    // one item out, then 1,000 waiting: the generator is not asked for more
    expect(seen.asked).toBe(1_001);
    broker.answer();
    await turn();
    expect(broker.calls[1]).toHaveLength(1_000);
    expect(seen.asked).toBe(1_001);
    while (!d.settled()) {
      if (broker.open > 0) broker.answer();
      await turn();
    }
    const got = await d.p;
    expect(got).toHaveLength(5_000);
    expect(broker.calls.flat()).toEqual(got);
    expect(Math.max(...broker.calls.map((c) => c.length))).toBeLessThanOrEqual(1_000);
  });

  it('fails the drain with the error of a failed store, and asks for nothing more after it is known', async () => {
    const broker = new SlowBroker(true);
    const boom = Object.assign(new Error('store down'), { code: 'E_DOWN' });
    let asked = 0;
    async function* gen() {
      for (let i = 0; i < 100; i++) {
        asked++;
        yield i;
        await turn();
      }
    }
    const d = drain(broker, gen());
    await turn();
    broker.answer(boom);
    await expect(d.p).rejects.toBe(boom);
    const at = asked;
    await turn();
    expect(asked).toBe(at);
    expect(asked).toBeLessThan(100);
  });

  it('fails the drain when the last store fails after the generator is done', async () => {
    const broker = new SlowBroker(true);
    const d = drain(broker, [1, 2][Symbol.iterator]());
    await turn();
    broker.answer();
    await turn();
    broker.answer(new Error('last store failed'));
    await expect(d.p).rejects.toThrow('last store failed');
  });
});
