/**
 * `self.waitChildren()`: waits for the tasks a run added with `self.addTask`, while the run gives
 * its worker slot back (see `Execution.suspendWhile`). What a failed child does follows the same
 * policies as a flow's `onChildError`.
 */
import { ChildFailedError, ErrorCodes, QTasksError, TaskErrorInfo, TaskFailedError } from '../errors';
import type { TaskHandle } from '../task/task-handle';
import { toErrorInfo } from '../task/task-error-info';
import { ChildErrorPolicy, failedChildResult, isChildErrorPolicy } from '../workflow/workflow-spec';

/** Options of `self.waitChildren()`. */
export interface WaitChildrenOptions {
  /**
   * What a child that ended `error` or `cancel` does: `'fail'` (default: `waitChildren()` rejects
   * `ChildFailedError`, `QTASKS_ERR_CHILD_FAILED`, the child's error in `cause`, and the children
   * that have not ended are cancelled), `'ignore'` (it gives `undefined`), `'continue'` (it gives
   * `{ error }`, the child's recorded error).
   */
  onChildError?: ChildErrorPolicy;
}

/** One child's end. */
type ChildEnd = { ok: unknown } | { err: TaskErrorInfo };

/** The recorded error of a child that did not succeed. */
function childError(err: unknown): TaskErrorInfo {
  if (err instanceof TaskFailedError) return err.cause;
  return toErrorInfo(err);
}

/** True for the abort of a worker shutting down: the run is handed back, its children go on. */
function isShutdown(reason: unknown): boolean {
  return reason instanceof QTasksError && reason.code === ErrorCodes.CLOSED;
}

/**
 * The results of `handles` in order, under `policy`. Rejects with `signal`'s reason when it aborts
 * first (a cancel or timeout of the parent also cancels the children that have not ended).
 */
export function awaitChildren(handles: readonly TaskHandle[], options: WaitChildrenOptions | undefined, signal: AbortSignal): Promise<unknown[]> {
  const policy = options?.onChildError ?? 'fail';
  if (!isChildErrorPolicy(policy)) {
    return Promise.reject(new QTasksError(ErrorCodes.BAD_OPTION, `waitChildren({ onChildError }) must be 'fail', 'ignore' or 'continue', not ${JSON.stringify(policy)}`));
  }
  if (handles.length === 0) return Promise.resolve([]);
  const ended = new Array<boolean>(handles.length).fill(false);
  const cancelOthers = (reason: string): void => {
    handles.forEach((h, i) => {
      if (!ended[i]) void h.cancel(reason).catch(() => false);
    });
  };
  return new Promise<unknown[]>((resolve, reject) => {
    let left = handles.length;
    let settled = false;
    const out = new Array<unknown>(handles.length);
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      if (!isShutdown(signal.reason)) cancelOthers('its parent ended while waiting for it');
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      settled = true;
      signal.removeEventListener('abort', onAbort);
    };
    handles.forEach((h, i) => {
      h.result().then(
        (value): ChildEnd => ({ ok: value }),
        (err: unknown): ChildEnd => ({ err: childError(err) }),
      ).then((end) => {
        ended[i] = true;
        if (settled) return;
        if ('err' in end) {
          if (policy === 'fail') {
            done();
            cancelOthers(`a sibling (${h.id}) failed`);
            reject(new ChildFailedError(h.id, end.err));
            return;
          }
          out[i] = failedChildResult(policy, end.err);
        } else {
          out[i] = end.ok;
        }
        if (--left === 0) {
          done();
          resolve(out);
        }
      });
    });
  });
}
