/**
 * `@Task({ rateLimit: { max, per } })`: at most `max` starts of a task name in any sliding window of
 * `per` ms, counted by the broker so that every worker of the queue shares the window.
 *
 * A claimed task that finds the window full waits in its own worker slot (it stays claimed, so no
 * other worker can take it, and its lease is renewed as for any running task). It sleeps exactly the
 * time the broker says until the oldest start leaves the window, instead of polling; other task
 * names keep running in the worker's other slots. Waiters of one name in one process queue behind
 * each other (FIFO), so only one of them asks the broker at a time. A cancel, timeout or shutdown
 * ends the wait at once. The wait counts toward the task's `timeout`.
 */
import type { Broker } from '../engine/broker';
import type { PreparedTask } from '../worker/runtime';

/** What a rate limit needs of a broker: its shared sliding windows. */
export type RateLimiter = Pick<Broker, 'rateLimit'>;

/** A registry preparer: fills `acquire` of tasks declared with `rateLimit` (windows of the task's queue's broker). */
export function prepareRateLimit(broker: RateLimiter | ((task: PreparedTask) => RateLimiter)): (task: PreparedTask) => void {
  return (task) => {
    const limit = task.def.options.rateLimit;
    if (limit === undefined) return;
    task.acquire = rateLimitGate(typeof broker === 'function' ? broker(task) : broker, `rate:${task.def.name}`, limit.max, limit.per);
  };
}

/** Waits until the broker grants a start under `key`; FIFO among callers of this gate. */
export function rateLimitGate(broker: RateLimiter, key: string, max: number, perMs: number): (signal: AbortSignal) => Promise<void> {
  let tail: Promise<unknown> = Promise.resolve();
  const waitTurn = async (signal: AbortSignal): Promise<void> => {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const wait = await broker.rateLimit(key, max, perMs);
      if (wait <= 0) return;
      await sleep(wait, signal);
    }
  };
  return (signal) => {
    const turn = tail.then(() => waitTurn(signal));
    tail = turn.catch(() => undefined);
    return turn;
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
