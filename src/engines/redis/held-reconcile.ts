/**
 * Finds claims whose reply was lost: a claim script that ran in Redis while the connection dropped
 * leaves tasks in the worker's held set that the worker never learnt of (its lease renewals would
 * keep them there forever). One script call moves every held task the worker does not know back
 * to the queue, as the stall sweep does, without counting the attempt that never started (tasks
 * handed over to its inbox are not lost: they wait there).
 */
import type { Redis } from 'ioredis';
import type { PartitionScope } from './partition-scope';

/**
 * Runs the reconcile script for worker `workerId`, which knows (runs, has buffered or is recording
 * the end of) the tasks `known`; held tasks it does not know that started before `before` (the
 * earliest send time of its claims on the way, else `now`) go back, and so do those that wait in
 * its inbox. Sent on `conn`, the worker's blocking connection while no pop waits there. Resolves
 * the ids moved out of its held set.
 */
export async function reconcileHeld(
  s: PartitionScope,
  conn: Redis,
  workerId: string,
  known: Iterable<string>,
  count: number,
  now: number,
  before: number,
): Promise<string[]> {
  const k = s.keys;
  const args: (string | number)[] = [k.task, k.items, k.wait, k.channel, now, workerId, s.ctx.config.resultTtlMs, before, count];
  for (const id of known) args.push(id);
  const keys = [k.prios, k.cnt, k.marker, k.held + workerId, k.cancels, k.doneCancel, k.doneError, k.inbox + workerId];
  return (await s.link.scriptVia(conn, 'reconcile')(keys, args)) as string[];
}
