/**
 * `qtasks/conformance`: the suites every engine runs, published so that an engine written outside
 * this repository is checked the same way. For jest (the suites use its globals).
 * @example
 * ```ts
 * // my-engine.conformance.test.ts
 * import { describeEngineConformance } from 'qtasks/conformance';
 * import { QTasks } from 'qtasks';
 * import { myEngine } from './my-engine';
 *
 * describeEngineConformance('my engine', {
 *   app: ({ name, concurrency, config }) =>
 *     new QTasks({ name, concurrency, config, discover: false, engine: myEngine(SERVER_URL) }),
 *   features: { sharedQueue: true, sharedEvents: true },
 * });
 * ```
 */
import type { QTasks, QTasksOptions } from '..';
import { brokerConformance } from './broker.cases';
import { contractConformance } from './contract.cases';
import { coordinationConformance } from './coordination.cases';
import { describeManager } from './manager.cases';
import { parityConformance } from './parity.cases';
import { queuesConformance } from './queues.cases';
import { PoisonHooks, poisonConformance } from './poison.cases';
import { storageConformance } from './storage.cases';
import type { AppFactory, ConformanceFeatures } from './support';

export { brokerConformance } from './broker.cases';
export { storageConformance } from './storage.cases';
export { contractConformance } from './contract.cases';
export { coordinationConformance } from './coordination.cases';
export { parityConformance } from './parity.cases';
export { queuesConformance } from './queues.cases';
export { poisonConformance } from './poison.cases';
export type { Corruption, PoisonHooks } from './poison.cases';
export { describeManager } from './manager.cases';
export type { ManagerEngine } from './manager-support';
/** The broker suite's tasks and probe, for an engine's own fault tests. */
export { BrokerTasks, probe } from './broker-tasks';
export { AppTracker, Probe, sleep, uniqueName, untilAborted, waitFor } from './support';
export type { AppFactory, AppSpec, ConformanceFeatures } from './support';

/** What an engine hands {@link describeEngineConformance}. */
export interface EngineConformanceFactory {
  /**
   * Builds an app on the engine under test, never started (the suites register their tasks;
   * `discover: false` is advised). With `features.sharedQueue`, two calls with the same `name`
   * give apps of one queue (a producer and a worker).
   */
  app: AppFactory;
  /** Runs after each suite's tests (drop what the engine kept: keys, tables, …). */
  cleanup?: () => Promise<void>;
  /** What the engine can do across apps (see {@link ConformanceFeatures}). */
  features?: ConformanceFeatures;
  /**
   * Writes garbage straight into the engine's store, for the poison cases (a corrupt record ends
   * `QTASKS_ERR_BAD_RECORD`, its neighbours unaffected). Without it those cases are not described.
   */
  poison?: PoisonHooks;
  /**
   * Removes what the engine kept for one queue, for the TaskManager cases (run after every app of
   * that queue is closed); default: `cleanup`.
   */
  cleanupQueue?: (queue: string) => Promise<void>;
}

/**
 * Describes every shared suite on one engine: broker (state, events, cancel, delays, priorities,
 * retries, timeouts), storage (records, state, queries), TaskManager, named queues, contract (payload
 * limits, bad input), parity options, coordination (rate limit, timer lock), and the poison cases
 * when `factory.poison` is given.
 */
export function describeEngineConformance(title: string, factory: EngineConformanceFactory): void {
  const { app, cleanup, features = {} } = factory;
  brokerConformance(title, app, cleanup, features);
  storageConformance(title, app, cleanup, features);
  contractConformance(title, app, cleanup, features);
  parityConformance(title, app, cleanup, features);
  coordinationConformance(title, app, cleanup, features);
  queuesConformance(title, app, cleanup, features);
  if (factory.poison !== undefined) poisonConformance(title, app, factory.poison, cleanup, features);
  describeManager({
    label: title,
    shared: features.sharedQueue === true && features.sharedEvents === true,
    make: (queue: string, options: QTasksOptions = {}): QTasks => {
      const made = app({ name: queue, concurrency: options.concurrency, config: options.config });
      if (made instanceof Promise) throw new Error('describeEngineConformance: the TaskManager cases need an app factory that returns the app itself');
      return made;
    },
    cleanup: async (queue: string) => {
      if (factory.cleanupQueue) await factory.cleanupQueue(queue);
      else await cleanup?.();
    },
  });
}
