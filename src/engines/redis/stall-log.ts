/**
 * Stalls said out loud on Redis: the lease script (one Lua call) moves the tasks of workers whose
 * lease expired back to the queue, or ends them `QTASKS_ERR_STALLED`. The worker that runs that
 * sweep reads, just before it, which tasks the dead workers held, and logs each one the sweep
 * handled at `warn` (id, name, code). Nearly always one read of an empty range per lease round.
 */
import { ErrorCodes } from '../../errors';
import { warnStall } from '../shared/stall-warning';
import type { PartitionScope } from './partition-scope';

/** A task held by a worker whose lease has expired. */
export interface HeldByDead {
  id: string;
  worker: string;
}

/**
 * The tasks held by workers whose lease expired by `now` (what the next sweep will handle); none
 * when Redis cannot be read now (the sweep itself then fails and is retried next round).
 */
export async function heldByDeadWorkers(s: PartitionScope, now: number): Promise<HeldByDead[]> {
  const k = s.keys;
  const out: HeldByDead[] = [];
  try {
    const dead = await s.link.cmd.zrangebyscore(k.leases, '-inf', now, 'LIMIT', 0, 100);
    for (const worker of dead) for (const id of await s.link.cmd.smembers(k.held + worker)) out.push({ id, worker });
  } catch {
    return out;
  }
  return out;
}

/**
 * Stalls already logged, per storage (`id`, worker, stall count): two lease rounds may overlap on a
 * slow machine, read the same dead worker's tasks and both see the sweep's outcome; one stall is
 * logged once. Bounded: the oldest entries go first.
 */
const logged = new WeakMap<PartitionScope, Set<string>>();
const LOGGED_MAX = 1_024;

/** True the first time this stall is seen by `s`. */
function firstTime(s: PartitionScope, key: string): boolean {
  let seen = logged.get(s);
  if (seen === undefined) logged.set(s, (seen = new Set()));
  if (seen.has(key)) return false;
  seen.add(key);
  if (seen.size > LOGGED_MAX) seen.delete(seen.values().next().value as string);
  return true;
}

/** Logs each task the sweep took from a dead worker: queued again, or ended `QTASKS_ERR_STALLED`. */
export async function logStalls(s: PartitionScope, held: HeldByDead[]): Promise<void> {
  for (const { id, worker } of held) {
    const rec = await s.get(id).catch(() => undefined);
    if (rec === undefined || rec.workerId !== worker) continue;
    const ended = rec.status === 'error' && rec.error?.code === ErrorCodes.STALLED;
    const requeued = rec.status === 'new' && (rec.stalls ?? 0) > 0;
    if ((!ended && !requeued) || !firstTime(s, `${id}\0${worker}\0${rec.stalls ?? 0}`)) continue;
    warnStall(s.ctx.logger, { id, name: rec.name, stalls: rec.stalls, worker }, ended);
  }
}
