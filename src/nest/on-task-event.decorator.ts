/**
 * `@OnTaskEvent(event)`: a method of a Nest provider that listens to an app event
 * (`task:success`, `task:error`, …), wired by the explorer at module init. The decorator only
 * writes metadata.
 */
import type { AppEvent } from '../app/app-events';

/** Metadata key of the listening methods of a class (on its prototype). */
export const ON_TASK_EVENT = 'qtasks:nest:on-task-event';

/** One listening method. */
export interface OnTaskEventMeta {
  event: AppEvent;
  method: string;
  /** A queue registered with `registerQueue` (default: the root app's queue). */
  queue?: string;
}

/**
 * Calls this provider method with the event's payload each time `event` fires in the app (with
 * Redis or PostgreSQL, for tasks of every process of the queue).
 * @example
 * ```ts
 * @Injectable()
 * class Audit {
 *   @OnTaskEvent('task:error') failed({ record }: AppEventMap['task:error']) { … }
 *   @OnTaskEvent('task:success', { queue: 'emails' }) sent({ record }: AppEventMap['task:success']) { … }
 * }
 * ```
 */
export function OnTaskEvent(event: AppEvent, options: { queue?: string } = {}): MethodDecorator {
  return (target: object, key: string | symbol) => {
    const list = [...((Reflect.getOwnMetadata(ON_TASK_EVENT, target) as OnTaskEventMeta[] | undefined) ?? [])];
    list.push({ event, method: String(key), ...(options.queue === undefined ? {} : { queue: options.queue }) });
    Reflect.defineMetadata(ON_TASK_EVENT, list, target);
  };
}

/** The listening methods of a class and of the classes it extends. */
export function taskEventListeners(cls: Function): OnTaskEventMeta[] {
  const out: OnTaskEventMeta[] = [];
  for (let proto = cls.prototype as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    out.push(...((Reflect.getOwnMetadata(ON_TASK_EVENT, proto) as OnTaskEventMeta[] | undefined) ?? []));
  }
  return out;
}
