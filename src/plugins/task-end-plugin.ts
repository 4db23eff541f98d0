/**
 * Base class for plugins that react the same way to every end of an attempt (success, error,
 * retry, cancel): extend it, decorate the subclass `@Plugin()` and implement `onTaskEnd`.
 */
import { Hook } from '../decorators/middleware.decorator';
import type { TaskEndHookEvent } from './hook-events';

/** Routes the four end points of an attempt to one method. */
export abstract class TaskEndPlugin {
  /** Called once when an attempt ends, whatever the way. */
  protected abstract onTaskEnd(e: TaskEndHookEvent): void;

  @Hook('task:success') taskSuccess(e: TaskEndHookEvent): void {
    this.onTaskEnd(e);
  }
  @Hook('task:error') taskError(e: TaskEndHookEvent): void {
    this.onTaskEnd(e);
  }
  @Hook('task:retry') taskRetry(e: TaskEndHookEvent): void {
    this.onTaskEnd(e);
  }
  @Hook('task:cancel') taskCancel(e: TaskEndHookEvent): void {
    this.onTaskEnd(e);
  }
}
