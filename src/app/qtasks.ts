/**
 * `QTasks`: the app. Registers tasks, enqueues them, runs a worker in this process, and closes
 * everything in a fixed order.
 */
import { Workflows } from '../workflow/workflows';
import type { WorkflowHandle } from '../workflow/workflow-handle';
import type { Workflow } from '../workflow/workflow-spec';
import { container as rootContainer, DependencyContainer, InjectionToken } from 'tsyringe';
import { Broker, EngineContext, MaybePromise } from '../engine/broker';
import { Config, ConfigValues, ResolvedConfig } from '../config';
import { HOOK_POINTS, HookPoint } from '../decorators/middleware.decorator';
import { ClosedError, ErrorCodes, QTasksError, TaskNotFoundError } from '../errors';
import { ConsoleLogger, Logger } from '../logger';
import { Constructor, Metadata } from '../metadata';
import { HookRunner } from '../plugins/hook-runner';
import { pluginClassesOf, pluginSpecs } from '../plugins/plugin-loader';
import { prepareRateLimit } from '../rate-limit/rate-limiter';
import { SCHEDULES_STATE, Timers } from '../timer/timers';
import { prepareValidation, validationDtos } from '../validation/validate-args';
import { Storage, Storage as StorageToken } from '../engine/storage';
import { toJsonArgs } from '../task/json';
import { recordCopy } from '../task/record-copy';
import { newTaskId } from '../task/task-id';
import { QTaskHandle, TaskHandle } from '../task/task-handle';
import type { EnqueueOptions, TaskRecord } from '../task/task-record';
import type { PreparedTask, Runtime } from '../worker/runtime';
import type { WebServer } from '../web/web-server';
import { Worker } from '../worker/worker';
import { AppEvent, AppEvents, AppListener } from './app-events';
import type { QTasksOptions } from './options';
import { Router } from './router';
import { TaskManager } from './task-manager';
import { TaskRegistry } from './task-registry';
import { createTaskClient, TaskClient } from './task-client';
import type { KnownTaskName, KnownTaskRest, KnownTaskResult, UnknownTaskName } from '../task/task-map';
import type { ExplicitOnly, MethodArgsOf, MethodName, MethodReturnOf, TaskArgsOf, TaskClass, TaskReturnOf } from '../task/task-signature';
import { checkOptions } from './check-options';
import { checkId, checkReason } from './check-input';
import { chooseEngine } from './engine-choice';
import { isHeaders, newRecord } from './new-record';
import { Executors, runsElsewhere } from '../executor';

/** One entry of `addTasks`. */
export interface BulkTask {
  name: string;
  args?: unknown[];
  opts?: EnqueueOptions;
}

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
  protected worker: Worker | undefined;
  private readonly discover: boolean;
  /** Plugin classes wired so far (each once). */
  private readonly wiredPlugins = new Set<Constructor>();
  private readonly webOptions: QTasksOptions['web'];
  private initState: 0 | 1 | 2 = 0;
  private initPromise: Promise<void> | undefined;
  private startPromise: Promise<void> | undefined;
  private closePromise: Promise<void> | undefined;
  private closed = false;
  private readonly runtime: Runtime;
  /** Ids of new tasks: the engine's when it makes its own, else the core's. */
  private readonly newId: () => string;
  private readonly engineCtx: EngineContext;
  private readonly executors: Executors;
  /** Extra work run at start and close (timers, web view), registered by extensions. */
  protected readonly lifecycle: { start: (() => MaybePromise<void>)[]; close: (() => MaybePromise<void>)[] } = { start: [], close: [] };

  constructor(options: QTasksOptions = {}) {
    checkOptions(options);
    this.name = options.name ?? process.env.QTASKS_NAME ?? 'default';
    if (!/^[^{}\s]+$/.test(this.name)) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, `Queue name ${JSON.stringify(this.name)} must be non-empty, without spaces or braces`);
    }
    const cfg: Partial<ConfigValues> = { ...options.config };
    if (options.concurrency !== undefined) cfg.concurrency = options.concurrency;
    this.config = new ResolvedConfig(cfg);
    this.logger = options.logger ?? new ConsoleLogger(this.config.logLevel, { queue: this.name });
    this.discover = options.discover ?? true;
    this.webOptions = options.web;
    this.container = rootContainer.createChildContainer();
    const engine = chooseEngine(options);
    this.engineName = engine.name;
    this.broker = engine.broker;
    this.storage = engine.storage;
    const broker = this.broker;
    this.newId = broker.newId === undefined ? newTaskId : () => broker.newId!();
    this.events = new AppEvents(this.logger, () => this.broker.listenersChanged?.());
    this.hooks = new HookRunner(this.logger);
    this.registry = new TaskRegistry(this, runsElsewhere);
    this.executors = new Executors({ name: this.name, config: this.config, logger: this.logger, definitions: () => this.registry.definitions() });
    this.registry.preparers.push(prepareValidation, prepareRateLimit(this.broker), this.executors.prepare);
    this.timer = new Timers({
      broker: this.broker,
      logger: this.logger,
      addTask: (name, args) => this.addTask(name, args),
      definitions: () => this.registry.definitions(),
      markRun: (key, tick) => this.storage.stateSet(SCHEDULES_STATE, key, tick),
      lastRuns: async () => {
        await this.init();
        return this.storage.stateAll(SCHEDULES_STATE);
      },
    });
    this.registry.preparers.push((task) => this.timer.check([task.def]));
    this.lifecycle.start.push(() => this.timer.start());
    this.lifecycle.close.push(() => this.timer.stop());
    this.workflows = new Workflows({
      storage: this.storage,
      init: () => this.init(),
      hasTask: (name) => {
        try {
          this.taskFor(name);
          return true;
        } catch {
          return false;
        }
      },
      addTask: (name, args, opts) => this.addTask(name, args, opts),
      handle: (id) => this.handle(id),
      cancel: (id, reason) => this.cancel(id, reason),
    });
    this.manager = new TaskManager(async () => {
      await this.init();
      return { broker: this.broker, storage: this.storage };
    }, { commandTimeoutMs: () => this.config.connectTimeoutMs, schedules: () => this.timer.schedules(), queueName: () => this.name });
    this.engineCtx = {
      queue: this.name,
      config: this.config,
      logger: this.logger,
      storage: this.storage,
      emit: (event, payload) => this.events.emit(event, payload as never),
      listens: (event) => this.events.listens(event),
    };
    const token = (t: Constructor) => t as unknown as InjectionToken<unknown>;
    this.container.register(token(QTasks), { useValue: this });
    this.container.register(token(Config), { useValue: this.config });
    this.container.register(token(Logger), { useValue: this.logger });
    this.container.register(token(Broker), { useValue: this.broker });
    this.container.register(token(StorageToken), { useValue: this.storage });
    const app = this;
    this.runtime = {
      name: this.name,
      broker: this.broker,
      storage: this.storage,
      config: this.config,
      logger: this.logger,
      hooks: this.hooks,
      addTask: ((name: string, args?: unknown[], opts?: EnqueueOptions) => this.addTask(name, args, opts)) as Runtime['addTask'],
      task: (name) => this.registry.task(name),
      value: (token) => this.registry.value(token),
      construct: (def, resolve) => this.registry.construct(def.cls, def.ctor.map((_, i) => resolve(i))),
      dependsPlan: (cls) => this.registry.dependsPlan(cls),
      onSettled: undefined,
      workflowAdvance: (rec, outcome) => this.workflows.advance(rec, outcome),
      workflowGate: (rec) => this.workflows.gate(rec),
      childResults: (id) => this.workflows.childResults(id),
      requestStop: () => void this.close().catch((err: unknown) => this.logger.error('Closing on a stop command failed', { error: err })),
    };
    Object.defineProperty(this.runtime, 'app', { get: () => app });
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
    for (const cls of middleware) {
      if (!Metadata.isMiddleware(cls)) {
        throw new QTasksError(ErrorCodes.BAD_DECORATOR, `app.use(${cls?.name}) takes a class decorated with @Middleware()`);
      }
      this.registry.globalMiddleware.push(cls);
    }
    this.registry.invalidate();
    return this;
  }

  /**
   * Adds a plugin: an instance or a `@Plugin()` class (built by the container; a class is wired
   * once, however often it is given, registered, discovered or loaded from `config.plugins`).
   */
  plugin(plugin: object | Constructor): this {
    if (typeof plugin === 'function' && this.wiredPlugins.has(plugin as Constructor)) return this;
    const ctor = plugin as Constructor;
    const instance =
      typeof plugin !== 'function' ? plugin : ctor.length === 0 && Metadata.isPlugin(ctor) ? new (ctor as new () => object)() : this.registry.build(ctor);
    const cls = instance.constructor as Constructor;
    if (!Metadata.isPlugin(cls)) {
      throw new QTasksError(ErrorCodes.BAD_DECORATOR, `app.plugin(${cls.name}) takes an instance or class decorated with @Plugin()`);
    }
    this.wiredPlugins.add(cls);
    for (const { point, method } of Metadata.hooks(cls)) {
      const fn = (instance as Record<string, (e: unknown) => unknown>)[method];
      this.hooks.add(point as HookPoint, (e) => fn.call(instance, e), `${cls.name}.${method}`);
    }
    return this;
  }

  /**
   * Wires the `@Plugin` classes exported by each module now (what `start()` does for
   * `config.plugins`): package names (`'qtasks/prometheus'`) or paths resolved from `cwd`. Throws
   * `QTASKS_ERR_PLUGIN_LOAD` naming a module that cannot be loaded or exports no plugin class.
   */
  loadPlugins(modules: readonly string[], cwd = process.cwd()): this {
    for (const spec of pluginSpecs(modules)) for (const cls of pluginClassesOf(spec, cwd)) this.plugin(cls);
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
    if (this.initState === 2) return Promise.resolve();
    if (this.closed) return Promise.reject(new ClosedError('The app was used'));
    return (this.initPromise ??= (async () => {
      await this.storage.init(this.engineCtx);
      await this.broker.init(this.engineCtx);
      this.initState = 2;
    })());
  }

  /** Starts a worker in this process. Idempotent. */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('start()'));
    return (this.startPromise ??= this.doStart());
  }

  private async doStart(): Promise<void> {
    this.loadPlugins(this.config.plugins);
    if (this.discover) {
      this.registry.discover();
      // @Plugin classes imported so far are wired like tasks are registered
      for (const cls of this.registry.registeredClasses()) if (Metadata.isDiscoverablePlugin(cls)) this.plugin(cls);
    }
    this.registry.replan();
    this.registry.assertResolved();
    this.registry.prepareAll();
    await this.init();
    await this.registry.openWorkerResources();
    this.registry.prepareAll(); // classes that take worker resources in their constructor
    if (this.hooks.has('app:start')) await this.hooks.run('app:start', { app: this });
    const worker = new Worker(this.runtime, this.config.concurrency);
    this.worker = worker;
    await this.broker.consume(worker);
    this.events.emit('worker:start', { workerId: worker.workerId });
    if (this.hooks.has('worker:start')) await this.hooks.run('worker:start', { app: this, workerId: worker.workerId });
    for (const fn of this.lifecycle.start) await fn();
  }

  /**
   * Closes the app: stops extensions, lets running tasks finish (up to `shutdownTimeoutMs`, then
   * hands them back), closes worker resources, the broker and the storage. Idempotent.
   */
  close(): Promise<void> {
    return (this.closePromise ??= this.doClose());
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    if (this.startPromise) await this.startPromise.catch(() => undefined);
    for (const fn of this.lifecycle.close) {
      try {
        await fn();
      } catch (err) {
        this.logger.error('Closing an extension failed', { error: err });
      }
    }
    const worker = this.worker;
    if (worker) {
      await worker.stop(this.config.shutdownTimeoutMs);
      this.events.emit('worker:stop', { workerId: worker.workerId });
      if (this.hooks.has('worker:stop')) await this.hooks.run('worker:stop', { app: this, workerId: worker.workerId });
    }
    if (this.hooks.has('app:close')) await this.hooks.run('app:close', { app: this });
    await this.registry.closeWorkerResources();
    // after the worker: its aborted runs have stopped their threads and processes
    await this.executors.close();
    if (this.initPromise) await this.initPromise.catch(() => undefined);
    await this.broker.close();
    await this.storage.close();
    this.events.clear();
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Enqueues a task. Rejects `QTASKS_ERR_TASK_NOT_FOUND` for a name not registered here,
   * `QTASKS_ERR_NOT_SERIALIZABLE` for arguments that are not JSON, `QTASKS_ERR_CLOSED` after close.
   */
  addTask<K extends KnownTaskName>(name: K, ...rest: KnownTaskRest<K>): Promise<TaskHandle<KnownTaskResult<K>>>;
  addTask<R = unknown, N extends string = string>(name: N & UnknownTaskName<N>, args?: unknown[], opts?: EnqueueOptions): Promise<TaskHandle<R>>;
  addTask<R>(name: string, args?: unknown[], opts?: EnqueueOptions): Promise<TaskHandle<R>> {
    try {
      const task = this.taskFor(name);
      const record = this.newRecord(task, name, args, opts);
      if (opts?.transaction !== undefined) return this.addInTransaction<R>(task, record, opts.transaction);
      if (this.initState !== 2 || task.prepareArgs !== undefined || this.hooks.has('task:enqueue')) {
        return this.addSlow<R>(task, [record]).then((h) => h[0]);
      }
      const now = this.broker.immediate;
      if (now === undefined) return this.broker.enqueue([record]).then((r) => new QTaskHandle<R>(r[0].id, this.broker, this.storage, r[0]));
      const out = now.enqueueNow([record]);
      return Promise.resolve(new QTaskHandle<R>(out[0].id, this.broker, this.storage, out[0]));
    } catch (err) {
      return Promise.reject(err);
    }
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
    if (!Array.isArray(tasks) || !Array.from(tasks).every((t) => t !== null && typeof t === 'object')) {
      throw new QTasksError(ErrorCodes.BAD_OPTION, 'addTasks() takes an array of { name, args?, opts? }');
    }
    if (tasks.length === 0) return [];
    const records: TaskRecord[] = [];
    const prepared: PreparedTask[] = [];
    for (const t of tasks) {
      const task = this.taskFor(t.name);
      prepared.push(task);
      records.push(this.newRecord(task, t.name, t.args, t.opts));
    }
    return this.addSlowMany(prepared, records);
  }

  /** `addTask` with `{ transaction }`: the broker enqueues on the caller's open transaction. */
  private async addInTransaction<R>(task: PreparedTask, record: TaskRecord, transaction: unknown): Promise<TaskHandle<R>> {
    await this.init();
    if (task.prepareArgs) await task.prepareArgs(record.args);
    if (this.hooks.has('task:enqueue')) {
      const ev = await this.hooks.run('task:enqueue', { app: this, record, args: record.args });
      if (ev.args !== record.args && Array.isArray(ev.args)) record.args = toJsonArgs(ev.args);
    }
    if (this.closed) throw new ClosedError('addTask');
    const [stored] = await this.broker.enqueueWith(transaction, [record]);
    return new QTaskHandle<R>(stored.id, this.broker, this.storage);
  }

  private async addSlow<R>(task: PreparedTask, records: TaskRecord[]): Promise<TaskHandle<R>[]> {
    return this.addSlowMany([task], records) as Promise<TaskHandle<R>[]>;
  }

  private async addSlowMany(tasks: PreparedTask[], records: TaskRecord[]): Promise<TaskHandle[]> {
    await this.init();
    for (let i = 0; i < records.length; i++) {
      const task = tasks[i] ?? tasks[0];
      const rec = records[i];
      if (task.prepareArgs) await task.prepareArgs(rec.args);
      if (this.hooks.has('task:enqueue')) {
        // hooks get a copy; what is stored is the event's args (returned or changed) and record.headers
        const view = recordCopy(rec);
        const ev = await this.hooks.run('task:enqueue', { app: this, record: view, args: view.args });
        if (Array.isArray(ev.args)) rec.args = toJsonArgs(ev.args, this.config);
        if (isHeaders(view.headers)) rec.headers = { ...view.headers };
      }
    }
    if (this.closed) throw new ClosedError('addTask');
    const stored = await this.broker.enqueue(records);
    return stored.map((r) => new QTaskHandle(r.id, this.broker, this.storage, r));
  }

  private taskFor(name: string): PreparedTask {
    if (this.closed) throw new ClosedError('addTask');
    if (typeof name !== 'string') throw new QTasksError(ErrorCodes.BAD_OPTION, `addTask(name, …): the task name is a string, got ${name === null ? 'null' : typeof name}`);
    let task = this.registry.task(name);
    if (task === undefined && this.discover) {
      this.registry.discover();
      task = this.registry.task(name);
    }
    if (task === undefined) throw new TaskNotFoundError(String(name));
    return task;
  }

  private newRecord(task: PreparedTask, name: string, args: unknown[] | undefined, opts: EnqueueOptions | undefined): TaskRecord {
    return newRecord(task, name, args, opts, this.newId, this.config);
  }

  /** The record of a task, undefined for an unknown id. */
  async getTask(id: string): Promise<TaskRecord | undefined> {
    checkId(id, 'getTask()');
    await this.init();
    return this.storage.get(id);
  }

  /**
   * A handle on a task enqueued anywhere (for `result()` / `stream()` from another process). No I/O
   * until it is used; it works as the very first call of a producer (the engine connects on use).
   */
  handle<R = unknown>(id: string): TaskHandle<R> {
    checkId(id, 'handle()');
    return new QTaskHandle<R>(id, this.broker, this.storage, undefined, this.ready);
  }

  /** Undefined once connected; else the connection under way (the handles' gate). */
  private readonly ready = (): Promise<void> | undefined => (this.initState === 2 ? undefined : this.init());

  /** Cancels a task; false when unknown or already finished. */
  async cancel(id: string, reason?: string): Promise<boolean> {
    checkId(id, 'cancel()');
    checkReason(reason, 'cancel()');
    await this.init();
    return this.broker.cancel(id, reason);
  }

  /** The state store of a `@State()` class, bound to this app's storage. */
  state<T extends object>(cls: new () => T): T {
    if (!Metadata.state(cls)) throw new QTasksError(ErrorCodes.BAD_DECORATOR, `${cls.name} is not decorated with @State()`);
    // a remote storage (Redis) learns its queue and connects at init
    if (this.initState !== 2 && !this.closed) this.init().catch(() => undefined);
    return this.registry.value(cls) as T;
  }

  /** Names of every registered task. */
  taskNames(): string[] {
    if (this.discover) this.registry.discover();
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
