/**
 * What the worker side of the Redis engine needs of one partition of a queue: its keys, and the
 * engine's connections, settings and record reads. A queue of one partition is its storage itself.
 */
import type { EngineContext } from '../../engine/broker';
import type { TaskRecord } from '../../task/task-record';
import type { QueueKeys } from './queue-keys';
import type { RedisLink } from './redis-link';

/** One partition of a queue, as its consumer loop, lease rounds and wake-ups see it. */
export interface PartitionScope {
  /** The partition's keys (its channels are the queue's). */
  readonly keys: QueueKeys;
  readonly link: RedisLink;
  readonly ctx: EngineContext;
  /** A command with the engine's deadline. */
  call<T>(what: string, fn: (r: RedisLink['cmd']) => Promise<T>): Promise<T>;
  /** A task's record, whichever partition holds it. */
  get(id: string): Promise<TaskRecord | undefined>;
}
