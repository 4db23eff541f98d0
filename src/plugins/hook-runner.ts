/**
 * Runs plugin hooks at named points. A hook that throws is logged and skipped: it never fails a
 * task or the worker. With no hook at a point, `has()` is false and callers skip the point entirely.
 */
import type { HookPoint } from '../decorators/middleware.decorator';
import type { Logger } from '../logger';

/** The event object every hook receives; fields present depend on the point. */
export interface HookEvent {
  app: unknown;
  record?: unknown;
  ctx?: unknown;
  args?: unknown[];
  result?: unknown;
  error?: unknown;
  [key: string]: unknown;
}

/** What a hook may return at points that allow replacing a value. */
export interface HookReturn {
  args?: unknown[];
  result?: unknown;
}

type HookFn = (event: HookEvent) => unknown;

/** The hooks of every plugin of one app, by point. */
export class HookRunner {
  private readonly byPoint = new Map<HookPoint, { fn: HookFn; owner: string }[]>();

  constructor(private readonly logger: Logger) {}

  add(point: HookPoint, fn: HookFn, owner: string): void {
    let list = this.byPoint.get(point);
    if (!list) this.byPoint.set(point, (list = []));
    list.push({ fn, owner });
  }

  has(point: HookPoint): boolean {
    return this.byPoint.size !== 0 && this.byPoint.has(point);
  }

  /**
   * Runs every hook of `point` in registration order. Where the point allows it, a hook's returned
   * `{ args }` or `{ result }` replaces the value in `event` for the hooks after it and the caller.
   * Returns the event itself while every hook is synchronous (no promise, no extra tick on the
   * task's path), a promise of it from the first hook that returns a promise.
   */
  run(point: HookPoint, event: HookEvent): HookEvent | Promise<HookEvent> {
    const list = this.byPoint.get(point);
    if (!list) return event;
    for (let i = 0; i < list.length; i++) {
      let out: unknown;
      try {
        out = list[i].fn(event);
      } catch (err) {
        this.failed(list[i].owner, point, err);
        continue;
      }
      if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then === 'function') {
        return this.runAsync(point, event, list, i, out as Promise<unknown>);
      }
      this.apply(point, event, out);
    }
    return event;
  }

  private async runAsync(point: HookPoint, event: HookEvent, list: { fn: HookFn; owner: string }[], at: number, pending: Promise<unknown>): Promise<HookEvent> {
    for (let i = at; i < list.length; i++) {
      try {
        this.apply(point, event, await (i === at ? pending : list[i].fn(event)));
      } catch (err) {
        this.failed(list[i].owner, point, err);
      }
    }
    return event;
  }

  private apply(point: HookPoint, event: HookEvent, out: unknown): void {
    if (out === null || typeof out !== 'object') return;
    const o = out as HookReturn;
    if ((point === 'task:enqueue' || point === 'task:before') && Array.isArray(o.args)) event.args = o.args;
    if (point === 'task:after' && 'result' in o) event.result = o.result;
  }

  private failed(owner: string, point: HookPoint, err: unknown): void {
    this.logger.error(`Plugin hook ${owner} at ${point} threw; it was skipped`, { error: err });
  }
}
