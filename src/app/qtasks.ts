/**
 * `QTasks`: the app. Registers tasks, enqueues them, runs a worker in this process, and closes
 * everything in a fixed order. The parts live in their own files: how they are put together
 * (`app-wiring.ts`), the enqueue path (`enqueue.ts`), plugins and middleware (`plugin-wiring.ts`),
 * the workers' runtime (`app-runtime.ts`), connect/start/close (`app-lifecycle.ts`).
 */
import type { Workflows } from '../workflow/workflows';
import type { WorkflowHandle } from '../workflow/workflow-handle';
import type { Workflow } from '../workflow/workflow-spec';
import type { DependencyContainer } from 'tsyringe';
import type { Broker } from '../engine/broker';
import type { Config } from '../config';
import { HOOK_POINTS, HookPoint } from '../decorators/middleware.decorator';
import { ErrorCodes, QTasksError } from '../errors';
import type { Logger } from '../logger';
import { Constructor, Metadata } from '../metadata';
import type { HookRunner } from '../plugins/hook-runner';
import type { Timers } from '../timer/timers';
import { validationDtos } from '../validation/validate-args';
import type { Storage } from '../engine/storage';
import { QTaskHandle, TaskHandle } from '../task/task-handle';
import { toJsonArgs } from '../task/json';
import type { EnqueueOptions, TaskRecord } from '../task/task-record';
import type { PreparedTask, Runtime } from '../worker/runtime';
import type { WebServer } from '../web/web-server';
import type { Worker } from '../worker/worker';
import type { AppEvent, AppEvents, AppListener } from './app-events';
import type { QTasksOptions } from './options';
import type { Router } from './router';
import type { TaskManager } from './task-manager';
import type { TaskRegistry } from './task-registry';
import { createTaskClient, TaskClient } from './task-client';
import type { KnownTaskName, KnownTaskRest, KnownTaskResult, UnknownTaskName } from '../task/task-map';
import type { ExplicitOnly, MethodArgsOf, MethodName, MethodReturnOf, TaskArgsOf, TaskClass, TaskReturnOf } from '../task/task-signature';
import { checkId, checkReason } from './check-input';
import type { BulkTask, Enqueuer } from './enqueue';
import type { PluginWiring } from './plugin-wiring';
import type { AppLifecycle, Extensions } from './app-lifecycle';
import { AppQueues, checkQueueName } from './app-queues';
import { RoutedHandle } from './routed-handle';
import { wireApp } from './app-wiring';

export type { BulkTask } from './enqueue';

/**
 * A task queue app.
 * @example
 * ```ts
 * const app = new QTasks({ name: 'demo' });
 * app.register(Add);
 * await app.start();
 * const h = await app.addTask('add', [1, 2]);
 * await h.result(); // 3
 * await app.close();
 * ```
 */
export class QTasks {
  readonly name: string;
  readonly config: Config;
  readonly logger: Logger;
  /** The DI container of this app (a child of tsyringe's root container). */
  readonly container: DependencyContainer;
  /** The name of the engine this app runs on (`'memory'`, `'redis'`, …; `'custom'` for a broker and storage given apart). */
  readonly engineName: string;
  readonly broker: Broker;
  readonly storage: Storage;
  readonly manager: TaskManager;
  /** Cron and interval timers that enqueue tasks while the app is started. */
  readonly timer: Timers;
  /** @internal workflows started here or moved on by this app's worker. */
  readonly workflows: Workflows;
  /** @internal */
  readonly registry: TaskRegistry;
  /** @internal */
  readonly hooks: HookRunner;
  protected readonly events: AppEvents;
  private readonly runtime: Runtime;
  private readonly plugins: PluginWiring;
  private readonly enqueuer: Enqueuer;
  private readonly life: AppLifecycle;
  private readonly webOptions: QTasksOptions['web'];
  /** @internal every queue this app uses: its own, those it consumes, those its tasks are pinned to. */
  readonly queues: AppQueues;
  /** Extra work run at start and close (timers, web view), registered by extensions. */
  protected readonly lifecycle: Extensions = { start: [], close: [] };

  constructor(options: QTasksOptions = {}) {
    const parts = wireApp(this, QTasks, options, this.lifecycle);
    this.name = parts.name;
    this.config = parts.config;
    this.logger = parts.logger;
    this.webOptions = options.web;
    this.container = parts.container;
    this.engineName = parts.engineName;
    this.broker = parts.broker;
    this.storage = parts.storage;
    this.events = parts.events;
    this.hooks = parts.hooks;
    this.registry = parts.registry;
    this.queues = parts.queues;
    this.plugins = parts.plugins;
    this.timer = parts.timer;
    this.enqueuer = parts.enqueuer;
    this.workflows = parts.workflows;
    this.manager = parts.manager;
    this.runtime = parts.runtime;
    this.life = parts.life;
  }

  /**
   * Starts a workflow (`step`, `chain`, `group`, `flow`) and returns a handle on its end. Works
   * from a pure producer, like `addTask`: any worker of the queue moves it on.
   * @example
   * ```ts
   * const h = await app.run(chain(step('fetch', [url]), step('parse'), step('store')));
   * await h.result();
   * ```
   */
  run<R = unknown>(workflow: Workflow): Promise<WorkflowHandle<R>> {
    try {
      return this.workflows.run(workflow) as Promise<WorkflowHandle<R>>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Registers task classes (and state, depends, plugin classes). Chainable. */
  register(...classes: Constructor[]): this {
    const known = this.registry.definitions().length;
    this.registry.register(classes);
    // the new definitions (kept in insertion order): bad cron or validate options throw here
    const added = this.registry.definitions().slice(known);
    this.timer.check(added);
    for (const def of added) validationDtos(def);
    for (const cls of classes) if (Metadata.isPlugin(cls)) this.plugin(cls);
    return this;
  }

  /** Registers every class of a router. */
  includeRouter(router: Router): this {
    return this.register(...router.classes);
  }

  /** Adds global middleware (outermost first). */
  use(...middleware: Constructor[]): this {
    this.plugins.use(middleware);
    return this;
  }

  /**
   * Adds a plugin: an instance or a `@Plugin()` class (built by the container; a class is wired
   * once, however often it is given, registered, discovered or loaded from `config.plugins`).
   */
  plugin(plugin: object | Constructor): this {
    this.plugins.plugin(plugin);
    return this;
  }

  /**
   * Wires the `@Plugin` classes exported by each module now (what `start()` does for
   * `config.plugins`): package names (`'qtasks/prometheus'`) or paths resolved from `cwd`. Throws
   * `QTASKS_ERR_PLUGIN_LOAD` naming a module that cannot be loaded or exports no plugin class.
   */
  loadPlugins(modules: readonly string[], cwd = process.cwd()): this {
    this.plugins.load(modules, cwd);
    return this;
  }

  /** Subscribes to a typed event. */
  on<K extends AppEvent>(event: K, listener: AppListener<K>): this {
    this.events.on(event, listener);
    return this;
  }

  once<K extends AppEvent>(event: K, listener: AppListener<K>): this {
    this.events.once(event, listener);
    return this;
  }

  off<K extends AppEvent>(event: K, listener: AppListener<K>): this {
    this.events.off(event, listener);
    return this;
  }

  /** Connects the broker and storage (done by the first call that needs them). */
  init(): Promise<void> {
    return this.life.init();
  }

  /** Starts a worker in this process. Idempotent. */
  start(): Promise<void> {
    return this.life.start();
  }

  /**
   * Closes the app: stops extensions, lets running tasks finish (up to `shutdownTimeoutMs`, then
   * hands them back), closes worker resources, the broker and the storage. Idempotent.
   */
  close(): Promise<void> {
    return this.life.close();
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.life.isClosed;
  }

  /** The worker of this process, once started. */
  protected get worker(): Worker | undefined {
    return this.life.worker;
  }

  /**
   * Enqueues a task. Rejects `QTASKS_ERR_TASK_NOT_FOUND` for a name not registered here,
   * `QTASKS_ERR_NOT_SERIALIZABLE` for arguments that are not JSON, `QTASKS_ERR_CLOSED` after close.
   */
  addTask<K extends KnownTaskName>(name: K, ...rest: KnownTaskRest<K>): Promise<TaskHandle<KnownTaskResult<K>>>;
  addTask<R = unknown, N extends string = string>(name: N & UnknownTaskName<N>, args?: unknown[], opts?: EnqueueOptions): Promise<TaskHandle<R>>;
  addTask<R>(name: string, args?: unknown[], opts?: EnqueueOptions): Promise<TaskHandle<R>> {
    try {
      const task = this.enqueuer.taskFor(name);
      if (opts === undefined) {
        const plain = this.plainAdd<R>(task, name, args);
        if (plain !== undefined) return plain;
      }
      return this.addOne<R>(task, name, args, opts);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * `addTask` beyond {@link plainAdd} (may throw). Its own method: the callbacks it makes keep its
   * variables in a context object allocated at every call, which the plain path need not pay.
   */
  private addOne<R>(task: PreparedTask, name: string, args: unknown[] | undefined, opts: EnqueueOptions | undefined): Promise<TaskHandle<R>> {
    const enqueuer = this.enqueuer;
    const record = enqueuer.record(task, name, args, opts);
    const queue = opts?.queue === undefined && task.def.options.queue === undefined ? this.queues.main : enqueuer.queueFor(task, opts);
    if (opts?.transaction !== undefined) return enqueuer.addInTransaction<R>(task, record, opts.transaction, queue);
    if (queue !== this.queues.main || !this.life.isConnected || task.prepareArgs !== undefined || this.hooks.has('task:enqueue')) {
      return enqueuer.addMany([task], [record], queue).then((h) => h[0] as TaskHandle<R>);
    }
    const now = queue.broker.immediate;
    if (now === undefined) return queue.broker.enqueue([record]).then((r) => new QTaskHandle<R>(r[0].id, queue, r[0]));
    const stored = now.enqueueOneNow(record);
    return Promise.resolve(new QTaskHandle<R>(stored.id, queue, stored));
  }

  /**
   * `addTask` without options of a task with no record defaults but its priority, on an engine
   * that enqueues at once: the broker builds the stored record itself (no record is built to be
   * copied); undefined when the general path is needed.
   */
  private plainAdd<R>(task: PreparedTask, name: string, args: unknown[] | undefined): Promise<TaskHandle<R>> | undefined {
    const o = task.def.options;
    const queue = this.queues.main;
    const now = queue.broker.immediate;
    if (
      now === undefined || now.enqueueNewNow === undefined || o.queue !== undefined || !this.life.isConnected ||
      task.prepareArgs !== undefined || this.hooks.has('task:enqueue') ||
      o.retry !== undefined || (o.backoff !== undefined && typeof o.backoff !== 'function') || o.timeout !== undefined ||
      o.removeOnComplete !== undefined || o.removeOnFail !== undefined
    ) {
      return undefined;
    }
    const priority = o.priority ?? 0;
    if (typeof priority !== 'number' || !Number.isFinite(priority)) return undefined;
    const stored = now.enqueueNewNow(name, toJsonArgs(args, this.config), priority, Date.now());
    return Promise.resolve(new QTaskHandle<R>(stored.id, queue, stored));
  }

  /**
   * A typed client of one task: arguments and result inferred from the class form's `run`, or from
   * a task method (leading injected parameters dropped); explicit otherwise:
   * `app.task<[to: string], string>(Mailer, 'send')`.
   * @example
   * ```ts
   * const h = await app.task(Add).add(1, 2);   // TaskHandle<number>; add('1', 2) does not compile
   * ```
   */
  task<C extends TaskClass>(cls: C): TaskClient<TaskArgsOf<C>, TaskReturnOf<C>>;
  task<T extends object, M extends MethodName<T>>(cls: Constructor<T>, method: M): TaskClient<MethodArgsOf<T[M]>, MethodReturnOf<T[M]>>;
  task<A extends unknown[] = [never], R = unknown>(cls: Constructor, method?: ExplicitOnly<A, string>): TaskClient<A, R>;
  task(cls: Constructor, method?: string): TaskClient<unknown[], unknown> {
    return createTaskClient(this, cls, method);
  }

  /** Enqueues many tasks in one call (one round trip with Redis). */
  async addTasks(tasks: BulkTask[]): Promise<TaskHandle[]> {
    return this.enqueuer.addTasks(tasks);
  }

  /** The record of a task (looked up in every queue this app knows), undefined for an unknown id. */
  async getTask(id: string): Promise<TaskRecord | undefined> {
    checkId(id, 'getTask()');
    if (this.queues.single) {
      await this.init();
      return this.storage.get(id);
    }
    return (await this.queues.locate(id))?.record;
  }

  /**
   * A handle on a task enqueued anywhere (for `result()` / `stream()` from another process). No I/O
   * until it is used; it works as the very first call of a producer (the engine connects on use).
   * In an app of several queues, `queue` says where the task is; without it the handle finds it on
   * first use (the app's own queue when none holds it yet).
   */
  handle<R = unknown>(id: string, options?: { queue?: string }): TaskHandle<R> {
    checkId(id, 'handle()');
    const name = options?.queue;
    if (name !== undefined && name !== this.name) {
      const queue = this.queues.get(checkQueueName(name, 'handle()'));
      const ready = (): Promise<void> | undefined => (queue.isConnected ? undefined : this.queues.resolve(name, 'handle()').then(() => undefined));
      return new QTaskHandle<R>(id, { broker: queue.broker, storage: queue.storage, ready });
    }
    if (name !== undefined || this.queues.single) return new QTaskHandle<R>(id, { broker: this.broker, storage: this.storage, ready: this.ready });
    return new RoutedHandle<R>(id, async () => (await this.queues.locate(id))?.queue ?? (await this.queues.resolve(undefined, 'handle()')));
  }

  /** Undefined once connected; else the connection under way (the handles' gate). */
  private readonly ready = (): Promise<void> | undefined => (this.life.isConnected ? undefined : this.init());

  /** Cancels a task (in whichever queue of this app holds it); false when unknown or already finished. */
  async cancel(id: string, reason?: string): Promise<boolean> {
    checkId(id, 'cancel()');
    checkReason(reason, 'cancel()');
    await this.init();
    if (this.queues.single) return this.broker.cancel(id, reason);
    const queue = (await this.queues.locate(id))?.queue ?? this.queues.main;
    return queue.broker.cancel(id, reason);
  }

  /** The state store of a `@State()` class, bound to this app's storage. */
  state<T extends object>(cls: new () => T): T {
    if (!Metadata.state(cls)) throw new QTasksError(ErrorCodes.BAD_DECORATOR, `${cls.name} is not decorated with @State()`);
    // a remote storage (Redis) learns its queue and connects at init
    if (!this.life.isConnected && !this.isClosed) this.init().catch(() => undefined);
    return this.registry.value(cls) as T;
  }

  /** Names of every registered task. */
  taskNames(): string[] {
    this.enqueuer.discoverAll();
    return this.registry.definitions().map((d) => d.name);
  }

  private webServer: WebServer | undefined;

  /**
   * The web view of this app, made on first use: `await app.web.listen({ port, host, token })`.
   * `close()` of the app closes it.
   */
  get web(): WebServer {
    if (this.webServer === undefined) {
      // loaded on first use so that the core never loads the web view
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { createWebServer } = require('../web/web-server') as typeof import('../web/web-server');
      const web = createWebServer(this, this.webOptions);
      this.webServer = web;
      this.lifecycle.close.push(() => web.close());
    }
    return this.webServer;
  }

  /** @internal the runtime given to workers. */
  get internals(): Runtime {
    return this.runtime;
  }
}

/** Every lifecycle point a plugin hook can use. */
export const hookPoints: readonly HookPoint[] = HOOK_POINTS;
