/**
 * The check of a Redis queue's `partitions` across processes: a process whose count differs from
 * the one the queue is used with is refused when it starts a worker (or, partitioned, at its first
 * enqueue) — tasks on partitions it does not know would never run or never be found. (A bad
 * value is refused by the app's options check.)
 */
import { ErrorCodes, QTasksError } from '../../errors';
import type { RedisStorage } from './redis-storage';

/** The field of the queue's meta hash that holds its number of partitions (when more than one). */
const FIELD = 'partitions';

/**
 * Compares the storage's partition count with the one recorded for its queue (a partitioned
 * process records its own when none is). Rejects `QTASKS_ERR_BAD_OPTION` on a mismatch.
 */
export async function checkStoredPartitions(s: RedisStorage): Promise<void> {
  const meta = s.keys.meta;
  const mine = s.partitions;
  const stored =
    mine === 1
      ? await s.call('partitions check', (r) => r.hget(meta, FIELD))
      : ((await s.call('partitions check', (r) => r.multi().hsetnx(meta, FIELD, String(mine)).hget(meta, FIELD).exec()))?.[1]?.[1] as string | null | undefined);
  if (stored === null || stored === undefined || Number(stored) === mine) return;
  throw new QTasksError(
    ErrorCodes.BAD_OPTION,
    `Queue "${s.ctx.queue}" is used with partitions: ${stored}, and this process has partitions: ${mine}. Every producer and worker of a queue must use the same count; ` +
      `to change it, let the queue drain, then delete field "${FIELD}" of ${meta} (or use a new queue name)`,
    { details: { option: 'partitions', queue: s.ctx.queue, stored: Number(stored), given: mine } },
  );
}
