/**
 * The queues an app knows from its options: its own `name` and each queue of `queues`, with
 * defaults applied (`concurrency`: the app's; `partitions`: 1). What engines read in their context
 * and what `start()` consumes.
 */
import type { QueueOptions, ResolvedQueueOptions } from '../engine/queue-options';

/** The settings of every queue an app consumes, its own name first. */
export function resolveQueues(name: string, queues: Record<string, QueueOptions> | undefined, concurrency: number): Map<string, ResolvedQueueOptions> {
  const out = new Map<string, ResolvedQueueOptions>();
  const resolve = (o: QueueOptions | undefined): ResolvedQueueOptions => Object.freeze({ concurrency: o?.concurrency ?? concurrency, partitions: o?.partitions ?? 1 });
  out.set(name, resolve(queues?.[name]));
  for (const [q, o] of Object.entries(queues ?? {})) if (q !== name && o !== undefined) out.set(q, resolve(o));
  return out;
}

/** Settings of a queue the app does not consume (a task's queue it only enqueues on). */
export function defaultQueueOptions(concurrency: number): ResolvedQueueOptions {
  return Object.freeze({ concurrency, partitions: 1 });
}

/** The queues registered tasks are pinned to (`@Task({ queue })`). */
export function queuesOfTasks(defs: readonly { options: { queue?: string } }[]): Set<string> {
  const out = new Set<string>();
  for (const d of defs) if (d.options.queue !== undefined) out.add(d.options.queue);
  return out;
}
