/**
 * The one `compose()` for middleware: onion order, with a guard against `next()` called twice.
 */
import { ErrorCodes, QTasksError } from '../errors';
import type { TaskContext } from '../task/task-context';

/** A middleware instance. */
export interface MiddlewareHandler {
  handle(ctx: TaskContext, next: () => Promise<unknown>): unknown;
}

/** Composes handlers so that the first wraps the rest and the task body is innermost. */
export function compose(handlers: MiddlewareHandler[]): (ctx: TaskContext, body: () => Promise<unknown>) => Promise<unknown> {
  return (ctx, body) => {
    let last = -1;
    const dispatch = (i: number): Promise<unknown> => {
      if (i <= last) {
        return Promise.reject(new QTasksError(ErrorCodes.NEXT_CALLED_TWICE, 'next() called more than once in a middleware; call it at most once'));
      }
      last = i;
      if (i === handlers.length) return body();
      try {
        return Promise.resolve(handlers[i].handle(ctx, () => dispatch(i + 1)));
      } catch (err) {
        return Promise.reject(err);
      }
    };
    return dispatch(0);
  };
}
