/**
 * One lease round of a worker (every leaseMs/2): renews its lease and heartbeat, and runs the
 * queue's sweep (expired leases of any worker, expired records) in the same script call.
 */
import { hostname } from 'node:os';
import type { WorkerInfo } from '../../engine/broker';
import { decodeOpt } from './record-codec';
import { isConnectionError } from './redis-link';
import type { PartitionScope } from './partition-scope';
import { heldByDeadWorkers, logStalls } from './stall-log';

/** Runs the lease script for worker `info.id`; `onCancel` gets the cancel requests of its tasks. */
export function renewLeases(s: PartitionScope, info: WorkerInfo, onCancel: (id: string, reason: string | undefined) => void): void {
  const k = s.keys;
  const cfg = s.ctx.config;
  const now = Date.now();
  const beat = JSON.stringify({ ...info, host: hostname(), lastSeenAt: now });
  const args: (string | number)[] = [
    k.task, k.items, k.wait, k.held, k.channel, now, now + cfg.leaseMs, info.id, beat, cfg.maxStalls, cfg.resultTtlMs, Math.floor(cfg.leaseMs * 1.5), k.inbox,
  ];
  void (async () => {
    // which tasks the sweep is about to take from dead workers, to say so once it has
    const held = await heldByDeadWorkers(s, now);
    const res = await s.link.script('lease')(
      [k.prios, k.leases, k.cnt, k.marker, k.workers, k.seen, k.doneSuccess, k.doneError, k.doneCancel, k.all, k.cancels, k.meta, k.idle],
      args,
    );
    const cancels = res as string[];
    for (let i = 0; i < cancels.length; i += 2) onCancel(cancels[i], decodeOpt(cancels[i + 1]));
    if (held.length > 0) await logStalls(s, held);
  })().catch((err: unknown) => {
    if (!isConnectionError(err)) s.ctx.logger.error('Renewing leases failed', { error: err });
  });
}
