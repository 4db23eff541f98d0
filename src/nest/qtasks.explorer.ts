/**
 * Finds the Nest providers that declare `@Task`s (through Nest's DiscoveryService), hands their
 * Nest-built instances to the apps (the root one and those of registered queues), resolves through
 * Nest what other tasks need, wires `@OnTaskEvent` methods, and binds the apps' life to the Nest
 * application's.
 */
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import { QTasks } from '../app/qtasks';
import type { AppEvent, AppListener } from '../app/app-events';
import { ErrorCodes, QTasksError } from '../errors';
import { Constructor, Metadata } from '../metadata';
import { resolveTaskDependencies } from './nest-dependencies';
import { taskEventListeners } from './on-task-event.decorator';
import { QTASKS_MODULE_OPTIONS, QTasksModuleOptions } from './qtasks-module-options';
import { QTasksQueues } from './queues';

/** Registers `@Task` providers at module init, starts at bootstrap, closes at shutdown. */
@Injectable()
export class QTasksExplorer implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly app: QTasks,
    @Inject(QTASKS_MODULE_OPTIONS) private readonly options: QTasksModuleOptions,
    private readonly queues: QTasksQueues,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Every app with whether it runs a worker here. */
  private apps(): { app: QTasks; worker: boolean }[] {
    return [{ app: this.app, worker: this.options.worker !== false }, ...this.queues.all()];
  }

  onModuleInit(): void {
    const seen = new Set<Constructor>();
    const listeners: { instance: object; cls: Constructor }[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as object | null | undefined;
      const cls = (instance?.constructor ?? wrapper.metatype) as Constructor | undefined;
      if (typeof cls !== 'function' || seen.has(cls) || !isClass(cls)) continue;
      const tasks = declaresTasks(cls);
      const listens = taskEventListeners(cls).length > 0;
      if (!tasks && !listens) continue;
      if (!instance || !wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
        this.app.logger.warn(`${cls.name} declares @Task or @OnTaskEvent but is not a singleton Nest provider; it is skipped (use the default scope)`);
        continue;
      }
      seen.add(cls);
      if (listens) listeners.push({ instance, cls });
      if (!tasks) continue;
      for (const { app } of this.apps()) {
        app.registry.registerInstance(cls, instance);
        app.register(cls);
      }
    }
    for (const { app } of this.apps()) resolveTaskDependencies(app, this.moduleRef, seen);
    for (const { instance, cls } of listeners) this.wireListeners(instance, cls);
  }

  private wireListeners(instance: object, cls: Constructor): void {
    for (const { event, method, queue } of taskEventListeners(cls)) {
      const app = queue === undefined ? this.app : this.queues.get(queue);
      if (app === undefined) {
        throw new QTasksError(
          ErrorCodes.BAD_DECORATOR,
          `@OnTaskEvent('${event}', { queue: '${queue}' }) on ${cls.name}.${method}: no queue "${queue}" is registered; add QTasksModule.registerQueue('${queue}')`,
        );
      }
      const fn = (instance as Record<string, (payload: unknown) => unknown>)[method];
      const listener = ((payload: unknown) => {
        try {
          const out = fn.call(instance, payload);
          if (out instanceof Promise) out.catch((err: unknown) => app.logger.error(`${cls.name}.${method} (@OnTaskEvent('${event}')) failed`, { error: err }));
        } catch (err) {
          app.logger.error(`${cls.name}.${method} (@OnTaskEvent('${event}')) failed`, { error: err });
        }
      }) as AppListener<AppEvent>;
      app.on(event, listener);
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const { app, worker } of this.apps()) if (worker) await app.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.closeAll();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.closeAll();
  }

  private async closeAll(): Promise<void> {
    for (const { app } of this.apps().reverse()) await app.close();
  }
}

function isClass(cls: Constructor): boolean {
  // factory providers have arrow functions (no prototype) as their metatype
  return typeof cls.prototype === 'object' && cls.prototype !== null;
}

function declaresTasks(cls: Constructor): boolean {
  return Metadata.classTask(cls) !== undefined || Metadata.methodTasks(cls).length > 0;
}
