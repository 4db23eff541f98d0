/**
 * `qtasks/nest`: the NestJS module. Needs @nestjs/common, @nestjs/core and rxjs (optional peer
 * dependencies of qtasks); the rest of qtasks never loads them.
 */
import 'reflect-metadata';

export { QTasksModule, QTasksQueueModule } from './qtasks.module';
export { QTasksService } from './qtasks.service';
export { QTasksExplorer } from './qtasks.explorer';
export { QTASKS_MODULE_OPTIONS } from './qtasks-module-options';
export type { QTasksModuleOptions, QTasksModuleAsyncOptions } from './qtasks-module-options';
export { InjectQueue, getQueueToken, QTasksQueues } from './queues';
export type { QueueRegistration } from './queues';
export { OnTaskEvent } from './on-task-event.decorator';
export type { OnTaskEventMeta } from './on-task-event.decorator';
export { QTasksHealthIndicator, QTasksHealthError } from './qtasks.health';
export type { QTasksHealthResult } from './qtasks.health';
