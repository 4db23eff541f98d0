/**
 * `qtasks/nest`: the NestJS module. Needs @nestjs/common, @nestjs/core and rxjs (optional peer
 * dependencies of qtasks); the rest of qtasks never loads them.
 */
import 'reflect-metadata';

export { QTasksModule } from './qtasks.module';
export { QTasksService } from './qtasks.service';
export { QTasksExplorer } from './qtasks.explorer';
export { QTASKS_MODULE_OPTIONS } from './qtasks-module-options';
export type { QTasksModuleOptions, QTasksModuleAsyncOptions } from './qtasks-module-options';
