/**
 * Every published suite (qtasks/conformance) on the in-memory engine: apps made with one queue
 * name share one engine, as apps of one queue share Redis. The poison cases change the stored
 * record object in place (fields of the wrong type, values that cannot be copied), as a plugin or
 * a bug could.
 */
import { MemoryStorage, QTasks } from 'qtasks';
import { Corruption, describeEngineConformance } from 'qtasks/conformance';
import { forgetMemoryEngines, memoryApp } from './memory-factory';

/** A value no copy can be made of. */
const uncopyable = (): void => undefined;

async function corrupt(app: QTasks, id: string, how: Corruption): Promise<void> {
  const rec = (app.storage as MemoryStorage).records.get(id);
  if (!rec) throw new Error(`No stored record ${id}`);
  const raw = rec as unknown as Record<string, unknown>;
  switch (how) {
    case 'body':
      Object.defineProperty(rec, 'name', { value: 42, writable: true });
      raw.args = 'not a list';
      break;
    case 'no-id':
      Object.defineProperty(rec, 'id', { value: undefined, writable: true });
      break;
    case 'priority':
      raw.priority = 'high';
      break;
    case 'result':
      raw.returning = uncopyable;
      break;
    case 'error':
      raw.error = uncopyable;
      break;
    case 'deep-args': {
      let v: unknown[] = [];
      for (let i = 0; i < 1_001; i++) v = [v];
      raw.args = [v];
      break;
    }
    case 'item':
      rec.items![0] = uncopyable;
      break;
  }
}

describeEngineConformance('memory', {
  app: memoryApp,
  cleanup: forgetMemoryEngines,
  features: { sharedQueue: true },
  poison: { corrupt },
});
