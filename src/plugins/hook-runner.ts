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
    return this.byPoint.has(point);
  }

  /**
   * Runs every hook of `point` in registration order. Where the point allows it, a hook's returned
   * `{ args }` or `{ result }` replaces the value in `event` for the hooks after it and the caller.
   */
  async run(point: HookPoint, event: HookEvent): Promise<HookEvent> {
    const list = this.byPoint.get(point);
    if (!list) return event;
    for (const { fn, owner } of list) {
      try {
        const out = (await fn(event)) as HookReturn | undefined;
        if (out && typeof out === 'object') {
          if ((point === 'task:enqueue' || point === 'task:before') && Array.isArray(out.args)) event.args = out.args;
          if (point === 'task:after' && 'result' in out) event.result = out.result;
        }
      } catch (err) {
        this.logger.error(`Plugin hook ${owner} at ${point} threw; it was skipped`, { error: err });
      }
    }
    return event;
  }
}
