/**
 * Queues registered with `QTasksModule.registerQueue(...)`: one app per queue, made from the root
 * options (engine, config) and the queue's own, kept here so that the explorer gives them the
 * task providers, starts them at bootstrap and closes them at shutdown. `@InjectQueue(name)`
 * injects a queue's app.
 */
import { Inject, Injectable } from '@nestjs/common';
import { QTasks } from '../app/qtasks';
import type { QTasksModuleOptions } from './qtasks-module-options';

/** One queue of `registerQueue`: its name and the options it changes (concurrency, worker, config…). */
export interface QueueRegistration extends Omit<QTasksModuleOptions, 'name'> {
  name: string;
}

/** The Nest token of queue `name`'s app (what `@InjectQueue(name)` injects). */
export function getQueueToken(name: string): string {
  return `qtasks:queue:${name}`;
}

/**
 * Injects the app (the client: `addTask`, `task()`, `manager`…) of a queue registered with
 * `QTasksModule.registerQueue(name)`.
 * @example
 * ```ts
 * constructor(@InjectQueue('emails') private readonly emails: QTasks) {}
 * ```
 */
export function InjectQueue(name: string): ParameterDecorator & PropertyDecorator {
  return Inject(getQueueToken(name));
}

/** Every app of the Nest application: the root one and those of registered queues. */
@Injectable()
export class QTasksQueues {
  private readonly byName = new Map<string, { app: QTasks; worker: boolean }>();

  /** Makes (once) the app of a registered queue. */
  create(root: QTasksModuleOptions, queue: QueueRegistration): QTasks {
    const known = this.byName.get(queue.name);
    if (known) return known.app;
    // the root app's named queues are the root app's: a registered queue consumes its own (and those it lists)
    const { worker: rootWorker, tasks: rootTasks, queues: _rootQueues, ...rootOptions } = root;
    const { worker, tasks, ...own } = queue;
    const app = new QTasks({ ...rootOptions, ...own, config: { ...rootOptions.config, ...own.config } });
    app.register(...(rootTasks ?? []), ...(tasks ?? []));
    this.byName.set(queue.name, { app, worker: (worker ?? rootWorker) !== false });
    return app;
  }

  /** The app of a registered queue, undefined when none has that name. */
  get(name: string): QTasks | undefined {
    return this.byName.get(name)?.app;
  }

  /** Every registered queue's app, with whether it runs a worker. */
  all(): { app: QTasks; worker: boolean }[] {
    return [...this.byName.values()];
  }
}
