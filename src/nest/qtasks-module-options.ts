/**
 * Options of `QTasksModule.forRoot()` / `forRootAsync()`.
 */
import type { FactoryProvider, ModuleMetadata } from '@nestjs/common';
import type { QTasksOptions } from '../app/options';
import type { Constructor } from '../metadata';

/** The app's options, plus whether this Nest app runs a worker. */
export interface QTasksModuleOptions extends QTasksOptions {
  /**
   * `true` (default): the worker starts at `onApplicationBootstrap`. `false`: this Nest app only
   * enqueues and reads (with Redis, workers run elsewhere).
   */
  worker?: boolean;
  /**
   * Task classes that are not Nest providers, registered in the app(s); what their constructors
   * or methods need is resolved through Nest (a dependency Nest cannot give fails the bootstrap).
   */
  tasks?: Constructor[];
}

/** Options made by a factory that Nest injects (configuration services and the like). */
export interface QTasksModuleAsyncOptions {
  /** Modules whose providers the factory needs. */
  imports?: ModuleMetadata['imports'];
  /** Builds the options; may be async. */
  useFactory: (...args: never[]) => QTasksModuleOptions | Promise<QTasksModuleOptions>;
  /** Providers handed to `useFactory`, in order. */
  inject?: FactoryProvider['inject'];
}

/** Nest token of the resolved module options. */
export const QTASKS_MODULE_OPTIONS = Symbol.for('qtasks:nest:options');
