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

const appProvider: Provider = {
  provide: QTasks,
  useFactory: (options: QTasksModuleOptions) => {
    // `worker` is the module's own option, not the app's
    const { worker: _worker, ...appOptions } = options;
    return new QTasks(appOptions);
  },
  inject: [QTASKS_MODULE_OPTIONS],
};

/**
 * Registers the app and discovers `@Task` providers.
 * @example
 * ```ts
 * @Module({ imports: [QTasksModule.forRoot({ name: 'emails' })], providers: [MailTasks] })
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

  private static build(optionProviders: Provider[], imports: NonNullable<QTasksModuleAsyncOptions['imports']>): DynamicModule {
    return {
      module: QTasksModule,
      global: true,
      imports: [DiscoveryModule, ...imports],
      providers: [...optionProviders, appProvider, QTasksService, QTasksExplorer],
      exports: [QTasks, QTasksService],
    };
  }
}
