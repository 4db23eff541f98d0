/**
 * The runtime an app hands its workers: the narrow view of the app a worker needs (engine,
 * settings, hooks, its tasks, injection, workflows), so that the worker never sees the facade.
 */
import type { Broker } from '../engine/broker';
import type { Storage } from '../engine/storage';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { HookRunner } from '../plugins/hook-runner';
import type { EnqueueOptions } from '../task/task-record';
import type { Runtime } from '../worker/runtime';
import type { Workflows } from '../workflow/workflows';
import type { TaskHandle } from '../task/task-handle';
import type { TaskRegistry } from './task-registry';

/** What the runtime is made of. */
export interface RuntimeParts {
  /** The app (what plugin hooks receive as `app`). */
  readonly app: object;
  readonly name: string;
  readonly broker: Broker;
  readonly storage: Storage;
  readonly config: Config;
  readonly logger: Logger;
  readonly hooks: HookRunner;
  readonly registry: TaskRegistry;
  readonly workflows: Workflows;
  addTask(name: string, args?: unknown[], opts?: EnqueueOptions): Promise<TaskHandle>;
  /** Closes the app (an operator's `stopWorker`). */
  close(): Promise<void>;
}

/** The runtime of an app's workers. */
export function createRuntime(p: RuntimeParts): Runtime {
  const { registry, workflows } = p;
  const runtime: Runtime = {
    name: p.name,
    broker: p.broker,
    storage: p.storage,
    config: p.config,
    logger: p.logger,
    hooks: p.hooks,
    addTask: ((name: string, args?: unknown[], opts?: EnqueueOptions) => p.addTask(name, args, opts)) as Runtime['addTask'],
    task: (name) => registry.task(name),
    value: (token) => registry.value(token),
    construct: (def, resolve) => registry.construct(def.cls, def.ctor.map((_, i) => resolve(i))),
    dependsPlan: (cls) => registry.dependsPlan(cls),
    workflowAdvance: (rec, outcome) => workflows.advance(rec, outcome),
    workflowGate: (rec) => workflows.gate(rec),
    childResults: (id) => workflows.childResults(id),
    requestStop: () => void p.close().catch((err: unknown) => p.logger.error('Closing on a stop command failed', { error: err })),
  };
  // not enumerable: a runtime copied or logged does not drag the app along
  Object.defineProperty(runtime, 'app', { get: () => p.app });
  return runtime;
}
