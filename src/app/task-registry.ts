/**
 * The tasks, state, depends, middleware and plugins of one app, and what they need to run:
 * definitions by name, prepared instances, app-wide values, worker-scoped resources.
 */
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { Broker } from '../engine/broker';
import { Config } from '../config';
import { closeFactory, DependsToken } from '../depends';
import { Explorer } from '../discovery/explorer';
import { ParamPlan, TaskDefinition, where } from '../discovery/task-definition';
import { unresolvedParam } from '../discovery/unresolved-param';
import { ErrorCodes, QTasksError } from '../errors';
import { Logger } from '../logger';
import { compose, MiddlewareHandler } from '../middleware/compose';
import { Constructor, decoratedClasses, Metadata } from '../metadata';
import { StateStore } from '../state';
import { Storage } from '../engine/storage';
import type { PreparedTask } from '../worker/runtime';

/** What the registry needs from the app. */
export interface RegistryHost {
  readonly container: DependencyContainer;
  readonly logger: Logger;
  readonly broker: Broker;
  readonly storage: Storage;
  readonly config: Config;
}

type Closer = () => unknown;

/** Holds everything registered in one app. */
export class TaskRegistry {
  readonly explorer: Explorer;
  private readonly classes = new Set<Constructor>();
  private readonly defs = new Map<string, TaskDefinition>();
  private readonly prepared = new Map<string, PreparedTask>();
  private readonly instances = new Map<Constructor, object>();
  private readonly values = new Map<unknown, unknown>();
  private readonly opening = new Map<unknown, Promise<unknown>>();
  private readonly closers: Closer[] = [];
  private readonly dependsPlans = new Map<Constructor, ParamPlan[]>();
  readonly globalMiddleware: Constructor[] = [];
  /** Hooks into preparation for extensions (validation, rate limits). */
  readonly preparers: ((task: PreparedTask) => void)[] = [];
  private discovered = false;

  /**
   * `runsElsewhere`: true for tasks run in a thread or process; the app neither builds their class
   * nor opens their worker-scoped resources (the thread or process does).
   */
  constructor(
    private readonly host: RegistryHost,
    private readonly runsElsewhere: (def: TaskDefinition) => boolean = () => false,
    /** Which discovered tasks this app takes (explicitly registered ones are always taken). */
    private readonly discoverable: (def: TaskDefinition) => boolean = () => true,
  ) {
    this.explorer = new Explorer(host.container, (m) => host.logger.warn(m));
  }

  /** Adds classes; throws `QTASKS_ERR_DUPLICATE_TASK` for a second task of one name. */
  register(classes: Constructor[], explicit = true): void {
    for (const cls of classes) {
      if (typeof cls !== 'function') {
        throw new QTasksError(ErrorCodes.BAD_DECORATOR, `register() takes classes, got ${cls === null ? 'null' : typeof cls}`);
      }
      if (this.classes.has(cls)) continue;
      const all = this.explorer.explore(cls, this.instances.has(cls));
      // discovered: tasks pinned to a queue this app does not consume stay out (a later register() takes them)
      const defs = explicit ? all : all.filter(this.discoverable);
      const known = defs.length > 0 || Metadata.state(cls) || Metadata.depends(cls) || Metadata.isPlugin(cls) || Metadata.isMiddleware(cls);
      if (!known && explicit) {
        throw new QTasksError(
          ErrorCodes.BAD_DECORATOR,
          `${cls.name} has no qtasks decorator: add @Task to the class or to a method (or @State, @Depends, @Plugin)`,
        );
      }
      for (const def of defs) {
        const other = this.defs.get(def.name);
        if (other !== undefined && other.cls === def.cls && other.method === def.method) continue;
        if (other) {
          // discovered or registered, two classes must not share a task name
          throw new QTasksError(
            ErrorCodes.DUPLICATE_TASK,
            `Two tasks are named "${def.name}": ${where(other)} and ${where(def)}; give one of them another name`,
          );
        }
      }
      for (const def of defs) this.defs.set(def.name, def);
      if (defs.length === all.length) this.classes.add(cls);
      this.prepared.clear();
    }
  }

  /**
   * Runs the tasks of `cls` on `instance` instead of building the class (another container, such
   * as NestJS's, built it with its own injection). Call it before `register(cls)`.
   */
  registerInstance(cls: Constructor, instance: object): void {
    if (this.classes.has(cls) && this.instances.get(cls) !== instance) {
      throw new QTasksError(ErrorCodes.INVALID_STATE, `registerInstance(${cls.name}) after register(${cls.name}): give the instance first`);
    }
    this.instances.set(cls, instance);
    this.prepared.clear();
  }

  /** Forgets prepared tasks (their middleware changed). */
  invalidate(): void {
    this.prepared.clear();
  }

  /** Adds every decorated class imported so far (once). */
  discover(): void {
    if (this.discovered) return;
    this.discovered = true;
    this.register(decoratedClasses(), false);
  }

  definition(name: string): TaskDefinition | undefined {
    return this.defs.get(name);
  }

  definitions(): TaskDefinition[] {
    return [...this.defs.values()];
  }

  registeredClasses(): Constructor[] {
    return [...this.classes];
  }

  /** The prepared task of `name`, built on first use. */
  task(name: string): PreparedTask | undefined {
    let p = this.prepared.get(name);
    if (p === undefined) {
      const def = this.defs.get(name);
      if (def === undefined) return undefined;
      p = this.prepare(def);
      // a class waiting for a worker resource (before start) is prepared again once it is open
      if (p.instance !== undefined || def.perRun) this.prepared.set(name, p);
    }
    return p;
  }

  /**
   * Plans method parameters again where a declared class was registered in the container after
   * `register()` (it was taken for a task argument then). Called at start.
   */
  replan(): void {
    const isToken = (t: unknown) => typeof t === 'function' && this.host.container.isRegistered(t as InjectionToken<unknown>, true);
    const stale = new Set<Constructor>();
    for (const d of this.defs.values()) {
      if (d.form === 'method' && d.params.some((p, i) => p.kind === 'unresolved' || (p.kind === 'arg' && isToken(d.paramTypes?.[i])))) stale.add(d.cls);
    }
    for (const cls of stale) for (const def of this.explorer.explore(cls, this.instances.has(cls))) this.defs.set(def.name, def);
    if (stale.size > 0) this.prepared.clear();
  }

  /**
   * Throws `QTASKS_ERR_UNRESOLVED_PARAM` for the first task (of `name`, or any) with a class-typed
   * parameter that is neither injectable nor marked as an argument. Called at start.
   */
  assertResolved(name?: string): void {
    for (const def of name === undefined ? this.defs.values() : [this.defs.get(name)]) {
      const p = def?.params.find((q) => q.kind === 'unresolved');
      if (def !== undefined && p?.kind === 'unresolved') throw unresolvedParam(def, p.index, p.type);
    }
  }

  /** Prepares every task now, so that resolution errors surface at start. */
  prepareAll(): void {
    for (const name of this.defs.keys()) this.task(name);
  }

  private prepare(def: TaskDefinition): PreparedTask {
    const fn = (def.cls.prototype as Record<string, unknown>)[def.method] as (...a: unknown[]) => unknown;
    let instance: object | undefined;
    if (!def.perRun && !this.runsElsewhere(def)) {
      // one instance per class: every method task of a class shares it
      instance = this.instances.get(def.cls);
      if (instance === undefined && !def.ctor.some((p) => p.kind === 'value' && this.isUnopenedWorkerResource(p.token))) {
        instance = this.construct(def.cls, def.ctor.map((p) => this.appValue(p, `${where(def)}`)));
        this.instances.set(def.cls, instance);
      }
    }
    const mwClasses = [...this.globalMiddleware, ...(def.options.middlewares ?? [])];
    const handlers = mwClasses.map((c) => this.build(c) as MiddlewareHandler);
    const task: PreparedTask = {
      def,
      instance,
      fn,
      pipeline: handlers.length > 0 ? compose(handlers) : undefined,
      prepareArgs: undefined,
      acquire: undefined,
    };
    for (const prep of this.preparers) prep(task);
    return task;
  }

  /** Builds an app-wide class (middleware, plugin) through its constructor plan. */
  build(cls: Constructor): object {
    const plan = this.explorer.ctorPlan(cls, false);
    return this.construct(cls, plan.map((p) => this.appValue(p, cls.name)));
  }

  construct(cls: Constructor, args: unknown[]): object {
    return new (cls as new (...a: unknown[]) => object)(...args);
  }

  /** The constructor plan of a task-scoped @Depends class. */
  dependsPlan(cls: Constructor): ParamPlan[] {
    let plan = this.dependsPlans.get(cls);
    if (!plan) this.dependsPlans.set(cls, (plan = this.explorer.ctorPlan(cls, true)));
    return plan;
  }

  private appValue(p: ParamPlan, owner: string): unknown {
    if (p.kind !== 'value') {
      throw new QTasksError(ErrorCodes.UNRESOLVED_PARAM, `${owner} is built once per app and cannot take run-bound values`);
    }
    const v = this.value(p.token);
    if (v instanceof Promise) {
      throw new QTasksError(
        ErrorCodes.UNRESOLVED_PARAM,
        `${owner} needs a worker-scoped resource in its constructor before it was opened; call app.start() first`,
      );
    }
    return v;
  }

  /**
   * An app-wide value: Broker, Storage, Config, Logger, a state store, a worker-scoped resource
   * (a promise while it opens) or anything the container resolves.
   */
  value(token: unknown): unknown {
    const h = this.host;
    if (token === Broker) return h.broker;
    if (token === Storage) return h.storage;
    if (token === Config) return h.config;
    if (token === Logger) return h.logger;
    if (this.values.has(token)) return this.values.get(token);
    if (token instanceof DependsToken || (typeof token === 'function' && Metadata.depends(token as Constructor))) {
      return this.openWorkerResource(token);
    }
    let value: unknown;
    if (typeof token === 'function' && Metadata.state(token as Constructor)) {
      const cls = token as new () => StateStore<object>;
      value = new cls().attachStorage(h.storage, Metadata.state(cls)!.name ?? cls.name);
    } else {
      try {
        value = h.container.resolve(token as InjectionToken<unknown>);
      } catch (err) {
        throw new QTasksError(
          ErrorCodes.UNRESOLVED_PARAM,
          `Cannot resolve ${describe(token)}: register it in app.container (or decorate it with @injectable()), or use @Inject(token)`,
          { cause: err },
        );
      }
    }
    this.values.set(token, value);
    return value;
  }

  /** True for a worker-scoped resource not opened yet (a producer never opens it). */
  private isUnopenedWorkerResource(token: unknown): boolean {
    const worker = token instanceof DependsToken || (typeof token === 'function' && Metadata.depends(token as Constructor) !== undefined);
    return worker && !this.values.has(token);
  }

  /** Opens every worker-scoped resource the tasks use (at start). */
  async openWorkerResources(): Promise<void> {
    const tokens = new Set<unknown>();
    for (const def of this.defs.values()) {
      if (this.runsElsewhere(def)) continue;
      for (const p of [...def.ctor, ...def.params]) {
        if (p.kind === 'value' && (p.token instanceof DependsToken || (typeof p.token === 'function' && Metadata.depends(p.token as Constructor)))) {
          tokens.add(p.token);
        }
      }
    }
    for (const t of tokens) await this.openWorkerResource(t);
  }

  private openWorkerResource(token: unknown): Promise<unknown> {
    let p = this.opening.get(token);
    if (p) return p;
    p = (async () => {
      let value: unknown;
      if (token instanceof DependsToken) {
        const made = token.factory(undefined as never);
        if (made && typeof made === 'object' && Object.prototype.toString.call(made) === '[object AsyncGenerator]') {
          const gen = made as AsyncGenerator<unknown>;
          value = (await gen.next()).value;
          this.closers.push(() => closeFactory(gen));
        } else value = await made;
      } else {
        const cls = token as Constructor;
        const inst = this.build(cls) as { open?: () => unknown; close?: () => unknown };
        if (typeof inst.open === 'function') await inst.open();
        this.closers.push(() => inst.close?.());
        value = inst;
      }
      this.values.set(token, value);
      return value;
    })();
    this.opening.set(token, p);
    return p;
  }

  /** Closes worker-scoped resources in reverse opening order. */
  async closeWorkerResources(): Promise<void> {
    while (this.closers.length > 0) {
      const close = this.closers.pop()!;
      try {
        await close();
      } catch (err) {
        this.host.logger.error('A worker-scoped @Depends resource failed to close', { error: err });
      }
    }
    for (const t of this.opening.keys()) this.values.delete(t);
    this.opening.clear();
  }
}

function describe(token: unknown): string {
  return typeof token === 'function' ? (token as { name: string }).name || 'an anonymous class' : String(token);
}
