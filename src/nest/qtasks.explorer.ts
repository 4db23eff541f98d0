/**
 * Finds the Nest providers that declare `@Task`s (through Nest's DiscoveryService), hands their
 * Nest-built instances to the app, and binds the app's life to the Nest application's.
 */
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { QTasks } from '../app/qtasks';
import { Constructor, Metadata } from '../metadata';
import { QTASKS_MODULE_OPTIONS, QTasksModuleOptions } from './qtasks-module-options';

/** Registers `@Task` providers at module init, starts at bootstrap, closes at shutdown. */
@Injectable()
export class QTasksExplorer implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly app: QTasks,
    @Inject(QTASKS_MODULE_OPTIONS) private readonly options: QTasksModuleOptions,
  ) {}

  onModuleInit(): void {
    const seen = new Set<Constructor>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as object | null | undefined;
      const cls = (instance?.constructor ?? wrapper.metatype) as Constructor | undefined;
      if (typeof cls !== 'function' || seen.has(cls) || !declaresTasks(cls)) continue;
      if (!instance || !wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
        this.app.logger.warn(`${cls.name} declares @Task but is not a singleton Nest provider; its tasks are skipped (use the default scope)`);
        continue;
      }
      seen.add(cls);
      this.app.registry.registerInstance(cls, instance);
      this.app.register(cls);
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.worker !== false) await this.app.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.app.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.app.close();
  }
}

function declaresTasks(cls: Constructor): boolean {
  // factory providers have arrow functions (no prototype) as their metatype
  if (typeof cls.prototype !== 'object' || cls.prototype === null) return false;
  return Metadata.classTask(cls) !== undefined || Metadata.methodTasks(cls).length > 0;
}
