/**
 * How an app is put together from its options: settings, logger, engine, DI container, registry,
 * queues, plugins, timers, the enqueue path, workflows, the manager, the workers' runtime and the
 * lifecycle, each given the narrow view of the app it needs. `QTasks` keeps the parts and speaks
 * for them.
 */
import { container as rootContainer, InjectionToken } from 'tsyringe';
import { Broker } from '../engine/broker';
import { Config, ConfigValues, ResolvedConfig } from '../config';
import { ErrorCodes, QTasksError } from '../errors';
import { ConsoleLogger, Logger } from '../logger';
import type { Constructor } from '../metadata';
import { HookRunner } from '../plugins/hook-runner';
import { prepareRateLimit, RateLimiter } from '../rate-limit/rate-limiter';
import { SCHEDULES_STATE, Timers } from '../timer/timers';
import { prepareValidation } from '../validation/validate-args';
import { Storage } from '../engine/storage';
import { newTaskId } from '../task/task-id';
import type { TaskHandle } from '../task/task-handle';
import type { EnqueueOptions } from '../task/task-record';
import type { PreparedTask, Runtime } from '../worker/runtime';
import { Workflows } from '../workflow/workflows';
import { Executors, runsElsewhere } from '../executor';
import { AppEvents } from './app-events';
import { AppLifecycle, Extensions } from './app-lifecycle';
import { AppQueue, AppQueues } from './app-queues';
import { createRuntime } from './app-runtime';
import { checkOptions } from './check-options';
import { chooseEngine } from './engine-choice';
import { Enqueuer } from './enqueue';
import type { QTasksOptions } from './options';
import type { QTasks } from './qtasks';
import { PluginWiring } from './plugin-wiring';
import { defaultQueueOptions, queuesOfTasks, resolveQueues } from './queue-settings';
import { TaskManager } from './task-manager';
import { TaskRegistry } from './task-registry';

/** The app as its parts call back into it (plugin hooks and injection receive the app itself). */
export interface WiredApp {
  /** True once `close()` was called. */
  readonly isClosed: boolean;
  init(): Promise<void>;
  close(): Promise<void>;
  addTask(name: string, args?: unknown[], opts?: EnqueueOptions): Promise<TaskHandle>;
  handle(id: string): TaskHandle;
  cancel(id: string, reason?: string): Promise<boolean>;
}

/** The parts of one app: those `QTasks` shows, and those it keeps to itself. */
export type AppParts = Pick<QTasks, 'name' | 'config' | 'logger' | 'container' | 'engineName' | 'broker' | 'storage' | 'manager' | 'timer' | 'workflows' | 'registry' | 'hooks' | 'queues'> & {
  readonly events: AppEvents;
  readonly plugins: PluginWiring;
  readonly enqueuer: Enqueuer;
  /** The runtime of the workers of the app's own queue. */
  readonly runtime: Runtime;
  readonly life: AppLifecycle;
};

/**
 * Checks the options and wires the parts of `app`; `appClass` is the token the app itself is
 * injected under, `extensions` the work run at start and close (the timers join it).
 */
export function wireApp(app: WiredApp, appClass: Constructor, options: QTasksOptions, extensions: Extensions): AppParts {
  checkOptions(options);
  const name = options.name ?? process.env.QTASKS_NAME ?? 'default';
  if (!/^[^{}\s]+$/.test(name)) {
    throw new QTasksError(ErrorCodes.BAD_OPTION, `Queue name ${JSON.stringify(name)} must be non-empty, without spaces or braces`);
  }
  const cfg: Partial<ConfigValues> = { ...options.config };
  if (options.concurrency !== undefined) cfg.concurrency = options.concurrency;
  const config = new ResolvedConfig(cfg);
  const logger = options.logger ?? new ConsoleLogger(config.logLevel, { queue: name });
  const discover = options.discover ?? true;
  const consumed = resolveQueues(name, options.queues, config.concurrency);
  const container = rootContainer.createChildContainer();
  const engine = chooseEngine(options);
  const { broker, storage } = engine;
  const newId = broker.newId === undefined ? newTaskId : () => broker.newId!();
  const events = new AppEvents(logger, () => {
    for (const q of queues.opened()) q.broker.listenersChanged?.();
  });
  const hooks = new HookRunner(logger);
  // discover never takes a task of a queue this app does not consume
  const registry = new TaskRegistry({ container, logger, broker, storage, config }, runsElsewhere, (def) => def.options.queue === undefined || consumed.has(def.options.queue));
  const queues: AppQueues = new AppQueues({
    main: { name, broker, storage },
    consumed,
    others: defaultQueueOptions(config.concurrency),
    context: (queue, queueStorage, queueOptions) => ({
      queue,
      queueOptions,
      config,
      logger,
      storage: queueStorage,
      emit: (event, payload) => events.emit(event, payload as never),
      listens: (event) => events.listens(event),
    }),
    taskQueues: () => queuesOfTasks(registry.definitions()),
    isClosed: () => app.isClosed,
  });
  const plugins = new PluginWiring(registry, hooks);
  const executors = new Executors({ name, config, logger, definitions: () => registry.definitions() });
  // the rate-limit windows of a task are kept by the broker of the task's queue
  const rateLimiterOf = (task: PreparedTask): RateLimiter => {
    const queue = task.def.options.queue;
    if (queue === undefined || queue === name) return broker;
    return {
      rateLimit: async (key, max, perMs) => {
        const q = queues.get(queue);
        await q.init();
        return q.broker.rateLimit(key, max, perMs);
      },
    };
  };
  registry.preparers.push(prepareValidation, prepareRateLimit(rateLimiterOf), executors.prepare);
  const timer = new Timers({
    broker,
    logger,
    // a tick that won its lock enqueues even once close() began (close() waits for it, see
    // Timers.stop; every other process skipped that tick): its enqueuer is never closed
    addTask: (task, args) => tickEnqueuer.addTasks([{ name: task, args }]).then((h) => h[0]),
    definitions: () => registry.definitions(),
    markRun: (key, tick) => storage.stateSet(SCHEDULES_STATE, key, tick),
    lastRuns: async () => {
      await app.init();
      return storage.stateAll(SCHEDULES_STATE);
    },
  });
  registry.preparers.push((task) => timer.check([task.def]));
  extensions.start.push(() => timer.start());
  extensions.close.push(() => timer.stop());
  const enqueuing = { app, config, hooks, registry, queues, discover, newId };
  const enqueuer = new Enqueuer({ ...enqueuing, isClosed: () => app.isClosed });
  const tickEnqueuer = new Enqueuer({ ...enqueuing, isClosed: () => false });
  const workflows = new Workflows({
    storage,
    init: () => app.init(),
    hasTask: (task) => enqueuer.has(task),
    addTask: (task, args, opts) => app.addTask(task, args, opts),
    holdTask: (task, args, opts) => enqueuer.hold(task, args, opts),
    releaseTask: (task, id, opts) => enqueuer.release(task, id, opts),
    handle: (id) => app.handle(id),
    cancel: (id, reason) => app.cancel(id, reason),
  });
  const manager = new TaskManager(queues, { commandTimeoutMs: () => config.connectTimeoutMs, schedules: () => timer.schedules() });
  const token = (t: Constructor) => t as unknown as InjectionToken<unknown>;
  container.register(token(appClass), { useValue: app });
  container.register(token(Config), { useValue: config });
  container.register(token(Logger), { useValue: logger });
  container.register(token(Broker), { useValue: broker });
  container.register(token(Storage), { useValue: storage });
  const runtimeOf = (q: AppQueue): Runtime =>
    createRuntime({
      app,
      name: q.name,
      broker: q.broker,
      storage: q.storage,
      config,
      logger,
      hooks,
      registry,
      workflows,
      addTask: (task, args, opts) => app.addTask(task, args, opts),
      close: () => app.close(),
    });
  const runtime = runtimeOf(queues.main);
  const life = new AppLifecycle({
    app,
    config,
    logger,
    queues,
    runtimeOf: (q) => (q === queues.main ? runtime : runtimeOf(q)),
    registry,
    hooks,
    events,
    plugins,
    executors,
    discover,
    extensions,
  });
  return { name, config, logger, container, engineName: engine.name, broker, storage, events, hooks, registry, queues, plugins, timer, enqueuer, workflows, manager, runtime, life };
}
