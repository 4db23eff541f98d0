/**
 * Settings of one named queue, from the app's `queues` option
 * (`new QTasks({ queues: { emails: { concurrency: 5 }, hot: { partitions: 6 } } })`), and how an
 * engine sees them in its context.
 */

/** Settings of one queue in `new QTasks({ queues })`. */
export interface QueueOptions {
  /** Tasks of this queue run at once by this process (an integer ≥ 1; default: the app's `concurrency`). */
  concurrency?: number;
  /**
   * Hash tags one busy queue is split over on a Redis Cluster (an integer ≥ 1, default 1); set the
   * same on producers and workers. Engines that do not partition ignore it.
   */
  partitions?: number;
}

/** The settings of the queue an engine serves, as its context gives them (defaults applied). */
export interface ResolvedQueueOptions {
  /** Tasks of this queue run at once by this process's worker. */
  readonly concurrency: number;
  /** Hash tags the queue is split over (1: not split). */
  readonly partitions: number;
}

/** The largest `partitions` a queue may have. */
export const MAX_PARTITIONS = 1024;

/** True for a usable queue name: non-empty, no spaces or braces (braces make Redis hash tags). */
export function isQueueName(name: unknown): name is string {
  return typeof name === 'string' && /^[^{}\s]+$/.test(name);
}
