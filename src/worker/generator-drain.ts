/**
 * Generator tasks: each yielded item is mapped (`generateHandler`), checked as JSON, stored and
 * streamed; the list of items is the task's result.
 *
 * Items are stored in order with one store call in flight per attempt: the generator goes on while
 * a call is out, the items it yields meanwhile go together in the next call (`pushItems` where the
 * engine has it), and the drain waits when {@link RUN_AHEAD} items are still unsent. Every item is
 * stored before the drain returns, so an attempt's end comes after its items; a failed store fails
 * the attempt (at the next item, or at the end).
 */
import type { Broker } from '../engine/broker';
import type { Config } from '../config';
import { toJson } from '../task/json';
import type { TaskRecord } from '../task/task-record';

const GEN_TAGS = new Set(['[object AsyncGenerator]', '[object Generator]']);

/** Items a generator may yield ahead of what is stored before it waits for the store. */
const RUN_AHEAD = 1_000;

/** True for what a generator function returns (sync or async). */
export function isGenerator(value: object): value is AsyncIterator<unknown> | Iterator<unknown> {
  return GEN_TAGS.has(Object.prototype.toString.call(value));
}

/**
 * Stores and streams `items` of `rec`, in order: in one call where the broker has `pushItems`,
 * else one by one (at once on a broker that has `immediate`).
 */
export async function storeItems(broker: Broker, rec: TaskRecord, items: unknown[]): Promise<void> {
  if (broker.pushItems !== undefined) await broker.pushItems(rec, items);
  else if (broker.immediate !== undefined) for (const item of items) broker.immediate.pushItemNow(rec, item);
  else for (const item of items) await broker.pushItem(rec, item);
}

/** What draining needs from its attempt. */
export interface DrainTarget {
  readonly rec: TaskRecord;
  readonly broker: Broker;
  readonly config: Config;
  readonly handler: ((item: unknown) => unknown) | undefined;
  /** True once the attempt ended (timeout, cancel): stop asking for items. */
  ended(): boolean;
}

/** Stores an attempt's items in order, one call at a time, batching those that wait. */
class ItemStore {
  private unsent: unknown[] = [];
  private sending: Promise<void> | undefined;
  private failure: { err: unknown } | undefined;

  constructor(private readonly t: DrainTarget) {}

  /** Queues `item`; resolves at once, or when the store has caught up to {@link RUN_AHEAD}. */
  add(item: unknown): Promise<void> | undefined {
    this.check();
    this.unsent.push(item);
    this.sending ??= this.sendAll();
    return this.unsent.length >= RUN_AHEAD ? this.sending : undefined;
  }

  /** Waits until every queued item is stored; throws what a store call threw. */
  async flush(): Promise<void> {
    while (this.sending !== undefined) await this.sending;
    this.check();
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure.err;
  }

  private async sendAll(): Promise<void> {
    const { broker, rec } = this.t;
    try {
      while (this.unsent.length > 0 && this.failure === undefined) {
        const batch = this.unsent;
        this.unsent = [];
        await storeItems(broker, rec, batch);
      }
    } catch (err) {
      this.failure = { err };
    } finally {
      this.sending = undefined;
    }
  }
}

/** Drains a generator: each item (after generateHandler) is stored, streamed and collected. */
export async function drainGenerator(gen: AsyncIterator<unknown> | Iterator<unknown>, t: DrainTarget): Promise<unknown[]> {
  const list: unknown[] = [];
  const now = t.broker.immediate;
  const store = now === undefined ? new ItemStore(t) : undefined;
  try {
    for (;;) {
      if (t.ended()) break;
      const step = await gen.next();
      if (step.done) break;
      let item = step.value;
      if (t.handler) item = await t.handler(item);
      item = toJson(item, 'Yielded items', `item[${list.length}]`, t.config);
      if (t.ended()) break;
      list.push(item);
      if (store === undefined) now!.pushItemNow(t.rec, item);
      else {
        const wait = store.add(item);
        if (wait !== undefined) await wait;
      }
    }
    // the attempt's end is recorded after its items
    if (store !== undefined) await store.flush();
  } finally {
    if (t.ended()) await gen.return?.(undefined);
  }
  return list;
}
