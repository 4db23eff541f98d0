/**
 * What an app hands its engine at `init`: the queue, settings, logger, the storage the broker is
 * paired with, and the way back to the app's listeners.
 */
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { TaskRecord } from '../task/task-record';
import type { ResolvedQueueOptions } from './queue-options';
import type { Storage } from './storage';

/** Events a broker reports to the app (and, with a shared engine, to every process of the queue). */
export interface EngineEventMap {
  'task:success': { record: TaskRecord };
  'task:error': { record: TaskRecord };
  'task:retry': { record: TaskRecord };
  'task:cancel': { record: TaskRecord };
  'task:progress': { id: string; name: string; progress: unknown };
}

/** What an app hands its broker and storage at `init`. */
export interface EngineContext {
  /** The queue this broker and storage serve (the app's name, or another queue the app uses). */
  queue: string;
  /**
   * Settings of `queue` from the app's `queues` option, defaults applied (`partitions` 1,
   * `concurrency` the app's). An engine that splits a queue reads `partitions` here.
   */
  queueOptions: ResolvedQueueOptions;
  config: Config;
  logger: Logger;
  /**
   * The storage this app pairs the broker with. The pairing was checked when the app was made
   * (`checkPairing`): a broker whose `storageNeeds` is `'own'` gets a storage of its own engine
   * (same `engine` name) and may use that engine's internals; a broker with `'any'` uses the
   * Storage contract alone, record writes included (`storage.records`).
   */
  storage: Storage;
  /**
   * Fires an event in this process; the broker calls it once per event per process. The payload
   * is the app's from then on: a broker passes records it will not change afterwards.
   */
  emit<K extends keyof EngineEventMap>(event: K, payload: EngineEventMap[K]): void;
  /** True when someone in this process listens to `event` (lets a broker skip work). */
  listens(event: keyof EngineEventMap): boolean;
}
