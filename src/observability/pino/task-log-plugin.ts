/**
 * `TaskLogPlugin`: one structured log line per attempt end (task, id, status, attempt, duration),
 * written through the app's logger (a `PinoLogger` for JSON logs).
 */
import { Hook, Plugin } from '../../decorators/middleware.decorator';
import { Logger } from '../../logger';
import type { TaskEndHookEvent } from '../../plugins/hook-events';

/** Logs every attempt end: `info` for success, `warn` for retry and cancel, `error` for error. */
@Plugin({ discover: false })
export class TaskLogPlugin {
  /** Uses `logger` when given, else the logger of the app the event comes from. */
  constructor(private readonly logger?: Logger) {}

  @Hook('task:success') success(e: TaskEndHookEvent): void {
    this.write('info', 'task succeeded', e);
  }
  @Hook('task:retry') retry(e: TaskEndHookEvent): void {
    this.write('warn', 'task failed; retrying', e);
  }
  @Hook('task:error') error(e: TaskEndHookEvent): void {
    this.write('error', 'task failed', e);
  }
  @Hook('task:cancel') cancel(e: TaskEndHookEvent): void {
    this.write('warn', 'task cancelled', e);
  }

  private write(level: 'info' | 'warn' | 'error', message: string, e: TaskEndHookEvent): void {
    const r = e.record;
    const logger = this.logger ?? (e.app as { logger: Logger }).logger;
    const end = r.finishedAt ?? r.updatedAt;
    logger[level](message, {
      task: r.name,
      taskId: r.id,
      status: r.status,
      attempt: r.attempt,
      durationMs: r.startedAt !== undefined ? end - r.startedAt : undefined,
      error: r.error,
    });
  }
}
