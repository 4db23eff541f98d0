/**
 * Stalls said out loud on Redis: the lease script (one Lua call) moves the tasks of workers whose
 * lease expired back to the queue, or ends them `QTASKS_ERR_STALLED`. The worker that runs that
 * sweep reads, just before it, which tasks the dead workers held, and logs each one the sweep
 * handled at `warn` (id, name, code). Nearly always one read of an empty range per lease round.
 */
import { ErrorCodes } from '../../errors';
import type { RedisStorage } from './redis-storage';

/** A task held by a worker whose lease has expired. */
export interface HeldByDead {
  id: string;
  worker: string;
}

/**
 * The tasks held by workers whose lease expired by `now` (what the next sweep will handle); none
 * when Redis cannot be read now (the sweep itself then fails and is retried next round).
 */
export async function heldByDeadWorkers(s: RedisStorage, now: number): Promise<HeldByDead[]> {
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

/** Logs each task the sweep took from a dead worker: queued again, or ended `QTASKS_ERR_STALLED`. */
export async function logStalls(s: RedisStorage, held: HeldByDead[]): Promise<void> {
  for (const { id, worker } of held) {
    const rec = await s.get(id).catch(() => undefined);
    if (rec === undefined || rec.workerId !== worker) continue;
    const fields = { id, name: rec.name, code: ErrorCodes.STALLED, stalls: rec.stalls, worker };
    if (rec.status === 'error' && rec.error?.code === ErrorCodes.STALLED) {
      s.ctx.logger.warn('Task stalled more than maxStalls times: its worker stopped renewing its lease; it ended error', fields);
    } else if (rec.status === 'new' && (rec.stalls ?? 0) > 0) {
      s.ctx.logger.warn('Task stalled: its worker stopped renewing its lease (crashed or blocked); it was queued again', fields);
    }
  }
}
