/** The in-memory engine (the default): broker and storage in this process, nothing to install. */
import type { Engine } from '../../engine/engine';
import { MemoryBroker } from './memory-broker';
import { MemoryStorage, MemoryStorageOptions } from './memory-storage';

export * from './memory-broker';
export * from './memory-storage';

/**
 * The in-memory engine: tasks, records and state live in this process (the default engine, also
 * `url: 'memory:'`).
 * @example
 * ```ts
 * const app = new QTasks({ name: 'demo', engine: memoryEngine() });
 * ```
 */
export function memoryEngine(options: MemoryStorageOptions = {}): Engine {
  return { name: 'memory', broker: new MemoryBroker(), storage: new MemoryStorage(options) };
}
