/**
 * The lifecycle of an app: connect the engine once (on first use), start a worker for each queue
 * it consumes (plugins, discovery, resources, hooks, extensions), and close everything in a fixed
 * order. Each step is idempotent and keeps its promise.
 */
import type { MaybePromise } from '../engine/broker';
import type { Config } from '../config';
import { ClosedError } from '../errors';
import type { Executors } from '../executor';
import type { Logger } from '../logger';
import type { HookRunner } from '../plugins/hook-runner';
import type { Runtime } from '../worker/runtime';
import { Worker } from '../worker/worker';
import type { AppEvents } from './app-events';
import type { PluginWiring } from './plugin-wiring';
import type { TaskRegistry } from './task-registry';
import type { AppQueue, AppQueues } from './app-queues';

/** Work run at start and close by extensions (timers, the web view). */
export interface Extensions {
  start: (() => MaybePromise<void>)[];
  close: (() => MaybePromise<void>)[];
}

/** What the lifecycle drives. */
export interface LifecycleParts {
  /** The app, as plugin hooks receive it. */
  readonly app: object;
  readonly config: Config;
  readonly logger: Logger;
  /** The app's queues; `start()` consumes those listed as consumed. */
  readonly queues: AppQueues;
  /** The runtime of the workers of queue `q`. */
  runtimeOf(q: AppQueue): Runtime;
  readonly registry: TaskRegistry;
  readonly hooks: HookRunner;
  readonly events: AppEvents;
  readonly plugins: PluginWiring;
  readonly executors: Executors;
  readonly discover: boolean;
  readonly extensions: Extensions;
}

/** Connects, starts and closes one app. */
export class AppLifecycle {
  private closed = false;
  private startPromise: Promise<void> | undefined;
  private closePromise: Promise<void> | undefined;
  /** Every worker of this process, one per consumed queue (the app's own first). */
  readonly workers: Worker[] = [];

  constructor(private readonly p: LifecycleParts) {}

  /** The worker of the app's own queue, once started (the first consumed). */
  get worker(): Worker | undefined {
    return this.workers[0];
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** True once the engine is connected (the app's own queue). */
  get isConnected(): boolean {
    return this.p.queues.main.isConnected;
  }

  /** Connects the storage, then the broker of the app's own queue (once). */
  init(): Promise<void> {
    return this.p.queues.main.init();
  }

  /** Starts a worker in this process (once). */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('start()'));
    return (this.startPromise ??= this.doStart());
  }

  /** Closes everything (once). */
  close(): Promise<void> {
    return (this.closePromise ??= this.doClose());
  }

  private async doStart(): Promise<void> {
    const { p } = this;
    p.plugins.load(p.config.plugins, process.cwd());
    if (p.discover) {
      p.registry.discover();
      // @Plugin classes imported so far are wired like tasks are registered
      p.plugins.wireDiscovered();
    }
    p.registry.replan();
    p.registry.assertResolved();
    p.registry.prepareAll();
    await this.init();
    await p.registry.openWorkerResources();
    p.registry.prepareAll(); // classes that take worker resources in their constructor
    if (p.hooks.has('app:start')) await p.hooks.run('app:start', { app: p.app });
    for (const name of p.queues.consumed()) {
      if (this.closed) break;
      const queue = p.queues.get(name);
      await queue.init();
      const worker = new Worker(p.runtimeOf(queue), queue.options.concurrency);
      this.workers.push(worker);
      await queue.broker.consume(worker);
      p.events.emit('worker:start', { workerId: worker.workerId });
      if (p.hooks.has('worker:start')) await p.hooks.run('worker:start', { app: p.app, workerId: worker.workerId });
    }
    for (const fn of p.extensions.start) await fn();
  }

  private async doClose(): Promise<void> {
    const { p } = this;
    this.closed = true;
    if (this.startPromise) await this.startPromise.catch(() => undefined);
    for (const fn of p.extensions.close) {
      try {
        await fn();
      } catch (err) {
        p.logger.error('Closing an extension failed', { error: err });
      }
    }
    // every queue's worker drains at once: one shutdownTimeoutMs in all
    await Promise.all(this.workers.map((w) => w.stop(p.config.shutdownTimeoutMs)));
    for (const worker of this.workers) {
      p.events.emit('worker:stop', { workerId: worker.workerId });
      if (p.hooks.has('worker:stop')) await p.hooks.run('worker:stop', { app: p.app, workerId: worker.workerId });
    }
    if (p.hooks.has('app:close')) await p.hooks.run('app:close', { app: p.app });
    await p.registry.closeWorkerResources();
    // after the worker: its aborted runs have stopped their threads and processes
    await p.executors.close();
    await p.queues.closeOthers();
    await p.queues.main.close();
    p.events.clear();
  }
}
