/**
 * Generator tasks: each yielded item is mapped (`generateHandler`), checked as JSON, stored and
 * streamed before the next one is asked for; the list of items is the task's result.
 */
import type { Broker } from '../engine/broker';
import type { Config } from '../config';
import { toJson } from '../task/json';
import type { TaskRecord } from '../task/task-record';

const GEN_TAGS = new Set(['[object AsyncGenerator]', '[object Generator]']);

/** True for what a generator function returns (sync or async). */
export function isGenerator(value: object): value is AsyncIterator<unknown> | Iterator<unknown> {
  return GEN_TAGS.has(Object.prototype.toString.call(value));
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

/** Drains a generator: each item (after generateHandler) is stored, streamed and collected. */
export async function drainGenerator(gen: AsyncIterator<unknown> | Iterator<unknown>, t: DrainTarget): Promise<unknown[]> {
  const list: unknown[] = [];
  try {
    for (;;) {
      if (t.ended()) return list;
      const step = await gen.next();
      if (step.done) break;
      let item = step.value;
      if (t.handler) item = await t.handler(item);
      item = toJson(item, 'Yielded items', `item[${list.length}]`, t.config);
      if (t.ended()) return list;
      list.push(item);
      if (t.broker.immediate !== undefined) t.broker.immediate.pushItemNow(t.rec, item);
      else await t.broker.pushItem(t.rec, item);
    }
  } finally {
    if (t.ended()) await gen.return?.(undefined);
  }
  return list;
}
