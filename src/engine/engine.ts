/**
 * What an engine factory returns: a broker and a storage made to work together, and the engine's
 * name. `memoryEngine()`, `redisEngine(url)` and every other engine factory return one.
 */
import type { Broker } from './broker';
import type { Storage } from './storage';

/** A broker and a storage made by one factory (`new QTasks({ engine })`). */
export interface Engine {
  /** The engine's name (`'memory'`, `'redis'`, …), shown in errors and tools. */
  readonly name: string;
  readonly broker: Broker;
  readonly storage: Storage;
}

/** What `new QTasks({ url })` and the `redis` shorthand hand an engine: its URL, or its options. */
export type EngineTarget = string | Readonly<Record<string, unknown>>;
