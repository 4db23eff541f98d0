/**
 * A worker's entry in its queue's list of workers (what `workers()` and the manager show): written
 * at once when an operator's command changes its state, removed when it closes. The lease rounds
 * renew it with the lease (see `renewLeases`).
 */
import type { WorkerInfo } from '../../engine/broker';
import type { PartitionScope } from './partition-scope';

/** Writes the state of worker `id` now (a failure is left to the next lease round). */
export function writeWorkerState(s: PartitionScope, id: string, info: WorkerInfo): void {
  const k = s.keys;
  const now = Date.now();
  const beat = JSON.stringify({ ...info, id, lastSeenAt: now });
  void s.call('worker state', (r) => r.multi().hset(k.workers, id, beat).zadd(k.seen, now, id).exec()).catch(() => undefined);
}

/** Removes worker `id` from the list (once it is closed; the caller checks that Redis is ready). */
export function removeWorkerState(s: PartitionScope, id: string): Promise<unknown> {
  const k = s.keys;
  return s.link.cmd.multi().hdel(k.workers, id).zrem(k.seen, id).exec().catch(() => undefined);
}
