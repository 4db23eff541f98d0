/**
 * Executors: where a task runs (`inline` on the worker's event loop, or in a `thread` or `process`
 * pool).
 */
export { Executors, runsElsewhere } from './executors';
export type { ExecutorsHost } from './executors';
export { ExecutorCrashedError, ExecutorModuleError, RemoteOutcome } from './remote-run';
export type { RemoteCall, RemoteRun } from './remote-run';
