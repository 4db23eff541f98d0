/**
 * Runs jobs inside a worker thread or a child process: loads the task's module, builds the task
 * with its own registry (injection, @Depends, @State through the app's storage) and runs the
 * attempt with the same `Execution` as inline, so generators, depends and the retry decision behave
 * alike. One job at a time per thread or process.
 */
import { container as rootContainer } from 'tsyringe';
import { TaskRegistry } from '../app/task-registry';
import { Config, ResolvedConfig } from '../config';
import type { Outcome } from '../engine/broker';
import { HookRunner } from '../plugins/hook-runner';
import type { AddTaskFn } from '../task/task-context';
import { toErrorInfo } from '../task/task-error-info';
import type { ResultOptions, TaskHandle } from '../task/task-handle';
import type { TaskStatus } from '../task/task-record';
import { Execution, ExecutionHost } from '../worker/execution';
import type { PreparedTask, Runtime } from '../worker/runtime';
import { taskClassesOf } from './module-loader';
import { ForwardLogger, ParentLink } from './parent-link';
import type { Job } from './protocol';
import { absentBroker, jobBroker, remoteStorage } from './remote-engine';
import { ExecutorModuleError } from './remote-run';

/** A task added by this run, seen from the child. */
class RemoteHandle<R = unknown> implements TaskHandle<R> {
  constructor(
    readonly id: string,
    private readonly link: ParentLink,
  ) {}
  result(options?: ResultOptions): Promise<R> {
    return this.link.call('handle', [this.id, 'result', options]) as Promise<R>;
  }
  status(): Promise<TaskStatus | undefined> {
    return this.link.call('handle', [this.id, 'status']) as Promise<TaskStatus | undefined>;
  }
  cancel(reason?: string): Promise<boolean> {
    return this.link.call('handle', [this.id, 'cancel', reason]) as Promise<boolean>;
  }
  async *stream<T = unknown>(): AsyncIterable<T> {
    const n = (await this.link.call('handle', [this.id, 'stream'])) as number;
    let done = false;
    try {
      for (;;) {
        const r = (await this.link.call('handle', [this.id, 'next', n])) as { done: boolean; value?: T };
        if (r.done) {
          done = true;
          return;
        }
        yield r.value as T;
      }
    } finally {
      // the reader stopped early: the app closes its side
      if (!done) await this.link.call('handle', [this.id, 'end', n]).catch(() => undefined);
    }
  }
}

/** Everything one thread or process keeps between jobs. */
class ChildSide {
  private link: ParentLink | undefined;
  private registry: TaskRegistry | undefined;
  private config: Config | undefined;
  private readonly modules = new Set<string>();
  private readonly logger = new ForwardLogger(() => this.link);
  private readonly hooks = new HookRunner(this.logger);
  private readonly storage = remoteStorage(() => this.link);

  /** Runs one job to its outcome. Never throws. */
  async run(job: Job, link: ParentLink, kind: 'thread' | 'process'): Promise<Outcome> {
    this.link = link;
    try {
      let task: PreparedTask;
      try {
        task = await this.prepare(job, kind);
      } catch (err) {
        return { status: 'error', error: toErrorInfo(err) };
      }
      link.started();
      return await new Promise<Outcome>((resolve) => {
        const runtime = this.runtime(job, link, resolve);
        const host: ExecutionHost = {
          runtime,
          release: () => undefined,
          track: (p) => void p.catch((err) => this.logger.error('Ending a task in an executor failed', { error: err })),
        };
        new Execution(host, job.record, task).start();
      });
    } finally {
      this.link = undefined;
    }
  }

  /** Closes the worker-scoped resources opened here (a process told to stop). */
  async close(): Promise<void> {
    await this.registry?.closeWorkerResources();
  }

  private async prepare(job: Job, kind: 'thread' | 'process'): Promise<PreparedTask> {
    const registry = this.registryFor(job);
    if (!this.modules.has(job.module)) {
      const known = new Set(registry.registeredClasses());
      registry.register(taskClassesOf(job.module).filter((c) => !known.has(c)), false);
      await registry.openWorkerResources();
      this.modules.add(job.module);
    }
    const task = registry.task(job.record.name);
    if (task === undefined) {
      throw new ExecutorModuleError(
        `Task "${job.record.name}" is not exported from ${job.module}: export the class that declares it (the ${kind} loads it from that file)`,
      );
    }
    return task;
  }

  private registryFor(job: Job): TaskRegistry {
    if (this.registry === undefined) {
      // the app's settings, not this thread's environment
      this.config = new ResolvedConfig(job.config, {});
      this.registry = new TaskRegistry({
        container: rootContainer.createChildContainer(),
        logger: this.logger,
        broker: absentBroker(),
        storage: this.storage,
        config: this.config,
      });
    }
    return this.registry;
  }

  private runtime(job: Job, link: ParentLink, finish: (o: Outcome) => void): Runtime {
    const registry = this.registry!;
    const addTask = ((name: string, args?: unknown[], opts?: unknown) =>
      link.call('addTask', [name, args, opts]).then((id) => new RemoteHandle(id as string, link))) as AddTaskFn;
    return {
      name: job.queue,
      broker: jobBroker(link, finish),
      storage: this.storage,
      config: this.config!,
      logger: this.logger,
      hooks: this.hooks,
      addTask,
      task: (name) => registry.task(name),
      value: (token) => registry.value(token),
      construct: (def, resolve) => registry.construct(def.cls, def.ctor.map((_, i) => resolve(i))),
      dependsPlan: (cls) => registry.dependsPlan(cls),
      childResults: () => link.call('childResults', []) as Promise<unknown[]>,
    };
  }
}

/** The one child side of this thread or process. */
export const childSide = new ChildSide();
