/**
 * Finds claims whose reply was lost: a claim script that ran in Redis while the connection dropped
 * leaves tasks in the worker's held set that the worker never learnt of (its lease renewals would
 * keep them there forever). One script call moves every held task the worker does not know back
 * to the queue, as the stall sweep does, without counting the attempt that never started.
 */
import type { RedisStorage } from './redis-storage';

/**
 * Runs the reconcile script for worker `workerId`, which knows (runs, has buffered or is recording
 * the end of) the tasks `known`; held tasks it does not know that started before `before` (the
 * earliest send time of its claims on the way, else `now`) go back. Resolves the ids moved out of
 * its held set.
 */
export async function reconcileHeld(s: RedisStorage, workerId: string, known: Iterable<string>, count: number, now: number, before: number): Promise<string[]> {
  const k = s.keys;
  const args: (string | number)[] = [k.task, k.items, k.wait, k.channel, now, workerId, s.ctx.config.resultTtlMs, before, count];
  for (const id of known) args.push(id);
  return (await s.link.script('reconcile')([k.prios, k.cnt, k.marker, k.held + workerId, k.cancels, k.doneCancel, k.doneError], args)) as string[];
}
