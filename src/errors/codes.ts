/**
 * Every error code qtasks raises, grouped by area. Codes are stable: match on them, not on messages.
 */
export const ErrorCodes = {
  // tasks and their results
  TASK_NOT_FOUND: 'QTASKS_ERR_TASK_NOT_FOUND',
  TASK_FAILED: 'QTASKS_ERR_TASK_FAILED',
  TASK_CANCELLED: 'QTASKS_ERR_TASK_CANCELLED',
  TASK_TIMEOUT: 'QTASKS_ERR_TASK_TIMEOUT',
  RESULT_TIMEOUT: 'QTASKS_ERR_RESULT_TIMEOUT',
  STALLED: 'QTASKS_ERR_STALLED',
  NOT_SERIALIZABLE: 'QTASKS_ERR_NOT_SERIALIZABLE',
  PAYLOAD_TOO_LARGE: 'QTASKS_ERR_PAYLOAD_TOO_LARGE',
  VALIDATION: 'QTASKS_ERR_VALIDATION',
  RETRY_REQUESTED: 'QTASKS_ERR_RETRY_REQUESTED',
  UNRECOVERABLE: 'QTASKS_ERR_UNRECOVERABLE',
  // definitions and registration
  DUPLICATE_TASK: 'QTASKS_ERR_DUPLICATE_TASK',
  BAD_DECORATOR: 'QTASKS_ERR_BAD_DECORATOR',
  UNRESOLVED_PARAM: 'QTASKS_ERR_UNRESOLVED_PARAM',
  BAD_OPTION: 'QTASKS_ERR_BAD_OPTION',
  BAD_CRON: 'QTASKS_ERR_BAD_CRON',
  NEXT_CALLED_TWICE: 'QTASKS_ERR_NEXT_CALLED_TWICE',
  /** code compiled without a compiler option decorators need (experimentalDecorators, emitDecoratorMetadata) */
  TSCONFIG: 'QTASKS_ERR_TSCONFIG',
  /** an injected class imported with `import type`: its decorator metadata says Object */
  TYPE_ONLY_IMPORT: 'QTASKS_ERR_TYPE_ONLY_IMPORT',
  /** a feature used needs an optional peer dependency that is not installed */
  PEER_MISSING: 'QTASKS_ERR_PEER_MISSING',
  /** a plugin module named in config.plugins, QTASKS_PLUGINS or --plugin could not be loaded */
  PLUGIN_LOAD: 'QTASKS_ERR_PLUGIN_LOAD',
  // lifecycle and engine
  CLOSED: 'QTASKS_ERR_CLOSED',
  BROKER_UNAVAILABLE: 'QTASKS_ERR_BROKER_UNAVAILABLE',
  INCOMPATIBLE_ENGINE: 'QTASKS_ERR_INCOMPATIBLE_ENGINE',
  UNSUPPORTED: 'QTASKS_ERR_UNSUPPORTED',
  INVALID_STATE: 'QTASKS_ERR_INVALID_STATE',
  /** a queue name no app of this engine consumes and no registered task is pinned to */
  UNKNOWN_QUEUE: 'QTASKS_ERR_UNKNOWN_QUEUE',
  // workflows
  /** a flow's child failed under onChildError 'fail': the parent does not run */
  CHILD_FAILED: 'QTASKS_ERR_CHILD_FAILED',
  // managed workers
  /** no live worker has that id (unknown, or it died before the command reached it) */
  WORKER_NOT_FOUND: 'QTASKS_ERR_WORKER_NOT_FOUND',
  /** the worker is listed but did not apply the command in time (its process may be stuck) */
  WORKER_UNRESPONSIVE: 'QTASKS_ERR_WORKER_UNRESPONSIVE',
  // executors (tasks run in a worker thread or a child process)
  EXECUTOR_CRASHED: 'QTASKS_ERR_EXECUTOR_CRASHED',
  EXECUTOR_MODULE: 'QTASKS_ERR_EXECUTOR_MODULE',
  BAD_RECORD: 'QTASKS_ERR_BAD_RECORD',
  // command line
  CLI_MODULE_NOT_FOUND: 'QTASKS_ERR_CLI_MODULE_NOT_FOUND',
  CLI_EXPORT_NOT_FOUND: 'QTASKS_ERR_CLI_EXPORT_NOT_FOUND',
  CLI_USAGE: 'QTASKS_ERR_CLI_USAGE',
  /** a .ts app module that the CLI could not compile */
  CLI_COMPILE: 'QTASKS_ERR_CLI_COMPILE',
  // web view
  WEB_PORT_IN_USE: 'QTASKS_ERR_WEB_PORT_IN_USE',
  WEB_UNAUTHORIZED: 'QTASKS_ERR_WEB_UNAUTHORIZED',
  WEB_FORBIDDEN: 'QTASKS_ERR_WEB_FORBIDDEN',
  WEB_NOT_FOUND: 'QTASKS_ERR_WEB_NOT_FOUND',
  WEB_BAD_REQUEST: 'QTASKS_ERR_WEB_BAD_REQUEST',
  WEB_CONFLICT: 'QTASKS_ERR_WEB_CONFLICT',
  WEB_BUSY: 'QTASKS_ERR_WEB_BUSY',
} as const;

/** One of the stable error codes in {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
