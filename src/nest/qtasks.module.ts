/**
 * `QTasksModule`: qtasks in a NestJS application. One app per Nest application, global, so that
 * `QTasksService` (and `QTasks`) can be injected anywhere.
 */
import { DynamicModule, Global, Module, Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { QTasks } from '../app/qtasks';
import { QTasksExplorer } from './qtasks.explorer';
import { QTASKS_MODULE_OPTIONS, QTasksModuleAsyncOptions, QTasksModuleOptions } from './qtasks-module-options';
import { QTasksService } from './qtasks.service';
import { QTasksHealthIndicator } from './qtasks.health';
import { getQueueToken, QTasksQueues, QueueRegistration } from './queues';

const appProvider: Provider = {
  provide: QTasks,
  useFactory: (options: QTasksModuleOptions) => {
    // `worker` is the module's own option, not the app's
    const { worker: _worker, tasks, ...appOptions } = options;
    const app = new QTasks(appOptions);
    if (tasks) app.register(...tasks);
    return app;
  },
  inject: [QTASKS_MODULE_OPTIONS],
};

/**
 * Registers the app and discovers `@Task` providers. One app consumes several named queues with
 * the `queues` option (a provider's `@Task({ queue })` is routed to its queue); `registerQueue`
 * makes separate apps, injectable with `@InjectQueue(name)`.
 * @example
 * ```ts
 * @Module({
 *   imports: [QTasksModule.forRoot({ name: 'api', queues: { emails: { concurrency: 5 }, images: { concurrency: 1 } } })],
 *   providers: [MailTasks, ImageTasks],
 * })
 * export class AppModule {}
 * ```
 */
@Global()
@Module({})
export class QTasksModule {
  /** The module with fixed options. */
  static forRoot(options: QTasksModuleOptions = {}): DynamicModule {
    return QTasksModule.build([{ provide: QTASKS_MODULE_OPTIONS, useValue: options }], []);
  }

  /** The module with options made by a factory that Nest injects. */
  static forRootAsync(options: QTasksModuleAsyncOptions): DynamicModule {
    return QTasksModule.build(
      [{ provide: QTASKS_MODULE_OPTIONS, useFactory: options.useFactory as (...a: unknown[]) => unknown, inject: options.inject ?? [] }],
      options.imports ?? [],
    );
  }

  /**
   * Registers queues: each gets its own app (the root module's engine and config, changed by the
   * queue's options), injectable with `@InjectQueue(name)`, given every `@Task` provider, started
   * at bootstrap unless `worker: false`. Import `forRoot` (or `forRootAsync`) once as well.
   * @example
   * ```ts
   * @Module({ imports: [QTasksModule.registerQueue('emails', { name: 'images', concurrency: 2 })] })
   * export class MediaModule {}
   * ```
   */
  static registerQueue(...queues: (string | QueueRegistration)[]): DynamicModule {
    const providers: Provider[] = queues.map((q) => {
      const queue = typeof q === 'string' ? { name: q } : q;
      return {
        provide: getQueueToken(queue.name),
        useFactory: (root: QTasksModuleOptions, all: QTasksQueues) => all.create(root, queue),
        inject: [QTASKS_MODULE_OPTIONS, QTasksQueues],
      };
    });
    return { module: QTasksQueueModule, providers, exports: providers.map((p) => (p as { provide: string }).provide) };
  }

  private static build(optionProviders: Provider[], imports: NonNullable<QTasksModuleAsyncOptions['imports']>): DynamicModule {
    return {
      module: QTasksModule,
      global: true,
      imports: [DiscoveryModule, ...imports],
      providers: [...optionProviders, appProvider, QTasksService, QTasksQueues, QTasksHealthIndicator, QTasksExplorer],
      exports: [QTasks, QTasksService, QTasksQueues, QTasksHealthIndicator, QTASKS_MODULE_OPTIONS],
    };
  }
}

/** The module `registerQueue` returns (its providers are the queues' apps). */
@Module({})
export class QTasksQueueModule {}
