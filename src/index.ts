/**
 * qtasks: a task queue for Node.js with decorated task classes, dependency injection, and
 * in-memory or Redis engines. This barrel is the public API.
 */
import 'reflect-metadata';

export { QTasks } from './app/qtasks';
export type { BulkTask } from './app/qtasks';
export type { QTasksOptions } from './app/options';
/** @deprecated import it from `qtasks/redis`. */
export type { RedisConnectionOptions } from './engines/redis/redis-options';
export { Router } from './app/router';
export { TaskManager } from './app/task-manager';
export type { CleanOptions, ManagerListQuery, QueueInfo } from './app/task-manager';
export type { WebServer, WebListenOptions, WebAddress } from './web/web-server';
export type { WebOptions } from './web/web-options';
export type { AppEvent, AppEventMap, AppListener } from './app/app-events';

export { Task, State, Depends, Inject, Arg, Middleware, Plugin, Hook, HOOK_POINTS } from './decorators';
export type { HookPoint, PluginOptions } from './decorators';
export type { TaskOptions, StateOptions, DependsOptions, DependsScope, Constructor, ExecutorKind } from './metadata';
export { ExecutorCrashedError, ExecutorModuleError } from './executor';

export { TaskContext } from './task/task-context';
export type { TaskSelf, AddTaskFn } from './task/task-context';
export type { TaskClient } from './app/task-client';
export type { TaskMap, TaskMapEntry, KnownTaskName } from './task/task-map';
export type { TaskOf, TaskArgsOf, TaskReturnOf, MethodArgsOf, MethodReturnOf, TaskResultOf, InjectedParam } from './task/task-signature';
export type { TaskHandle, ResultOptions } from './task/task-handle';
export { TASK_STATUSES, isFinal } from './task/task-record';
export type { TaskRecord, TaskStatus, EnqueueOptions, BackoffOptions, BackoffFunction } from './task/task-record';
export type { RetentionOption } from './task/retention';
export type { TaskLogLine, AttemptInfo, AttemptStatus } from './task/task-history';

export { Logger, ConsoleLogger } from './logger';
export type { LogFields, LogLevel } from './logger';
export { Config, CONFIG_DEFAULTS } from './config';
export type { ConfigValues } from './config';

export { Broker, Storage } from './engine';
export { checkPairing, engineFromUrl, engineSchemes } from './engine';
export type { QueueOptions, ResolvedQueueOptions } from './engine';
export type { Engine, EngineTarget, Consumer, EngineContext, EngineEventMap, Outcome, WorkerInfo, WorkerCommand, MaybePromise, StreamItemListener, StreamEndListener, ListQuery, CleanQuery, FinishedStatus, RecordWriter, RecordPatch } from './engine';
export { MemoryBroker, MemoryStorage, memoryEngine } from './engines/memory';
export type { MemoryStorageOptions } from './engines/memory';

export { StateStore } from './state';
export { depends, DependsToken } from './depends';
export type { DependsFactory } from './depends';
export { compose } from './middleware/compose';
export type { MiddlewareHandler } from './middleware/compose';
export type { HookEvent, HookReturn } from './plugins/hook-runner';
export type { HookEvents, AppHookEvent, TaskRunHookEvent, TaskEndHookEvent } from './plugins/hook-events';
export { TaskEndPlugin } from './plugins/task-end-plugin';
export { PluginLoadError } from './plugins/plugin-loader';
export { RetryError } from './middleware/retry-error';
export type { RetryErrorOptions } from './middleware/retry-error';
export { Timers } from './timer/timers';
export type { TimerOptions, TimerHandle, ScheduleInfo } from './timer/timers';
export type { StatsBucket, StatsQuery } from './stats/task-stats';

export * from './errors';

export { step, chain, group, flow } from './workflow/workflow-spec';
export type { Workflow, StepSpec, GroupSpec, ChainSpec, FlowSpec, ChildErrorPolicy, WorkflowStepOptions } from './workflow/workflow-spec';
export { WorkflowHandle } from './workflow/workflow-handle';
export type { WorkflowStatus } from './workflow/workflow-handle';
