/**
 * `app.task(Class)` / `app.task(Class, 'method')`: a typed client for one task, whose `add(...)`
 * checks the arguments and types the result from the task's own signature.
 */
import { ErrorCodes, QTasksError } from '../errors';
import { Constructor, Metadata } from '../metadata';
import type { EnqueueOptions } from '../task/task-record';
import type { TaskHandle } from '../task/task-handle';

/**
 * Enqueues one task with checked arguments.
 * @example
 * ```ts
 * const add = app.task(Add);              // TaskClient<[a: number, b: number], number>
 * const h = await add.add(1, 2);          // TaskHandle<number>
 * await add.addWith({ delay: 1_000 }, 3, 4);
 * ```
 */
export interface TaskClient<A extends unknown[], R> {
  /** The task name the client enqueues. */
  readonly name: string;
  /** Enqueues the task with these arguments. */
  add(...args: A): Promise<TaskHandle<R>>;
  /** Enqueues the task with enqueue options (`delay`, `priority`, `id`, …) and these arguments. */
  addWith(opts: EnqueueOptions, ...args: A): Promise<TaskHandle<R>>;
  /** A typed handle on a task of this kind enqueued earlier (by id). */
  handle(id: string): TaskHandle<R>;
}

/** What a client needs from the app. */
export interface TaskClientHost {
  addTask(name: string, args?: unknown[], opts?: EnqueueOptions): Promise<TaskHandle<unknown>>;
  handle(id: string): TaskHandle<unknown>;
}

/** The task name of a decorated class (class form) or method (method form). */
export function taskNameOf(cls: Constructor, method?: string): string {
  const label = typeof cls === 'function' ? cls.name : String(cls);
  if (typeof cls !== 'function') throw new QTasksError(ErrorCodes.BAD_DECORATOR, `app.task(${label}) takes a class decorated with @Task()`);
  if (method === undefined) {
    const options = Metadata.classTask(cls);
    if (options === undefined) {
      const hint = Metadata.methodTasks(cls).length > 0 ? `; its tasks are methods: app.task(${label}, '<method>')` : '';
      throw new QTasksError(ErrorCodes.BAD_DECORATOR, `app.task(${label}): ${label} is not decorated with @Task()${hint}`);
    }
    return options.name ?? cls.name;
  }
  const found = Metadata.methodTasks(cls).find((m) => m.method === method);
  if (found === undefined) {
    throw new QTasksError(ErrorCodes.BAD_DECORATOR, `app.task(${label}, '${method}'): ${label}.${method} is not decorated with @Task()`);
  }
  return found.options.name ?? `${cls.name}.${method}`;
}

/** Makes the client of one task (the name is read once, here). */
export function createTaskClient<A extends unknown[], R>(host: TaskClientHost, cls: Constructor, method?: string): TaskClient<A, R> {
  const name = taskNameOf(cls, method);
  return {
    name,
    add: (...args: A) => host.addTask(name, args) as Promise<TaskHandle<R>>,
    addWith: (opts: EnqueueOptions, ...args: A) => host.addTask(name, args, opts) as Promise<TaskHandle<R>>,
    handle: (id: string) => host.handle(id) as TaskHandle<R>,
  };
}
