/**
 * The manager over a partitioned queue: counts summed over the partitions; `list` merging the
 * partitions' indexes newest first (by creation time), each read in chunks as for one partition;
 * `clean` with a limit removing the oldest finished tasks of the whole queue first. Tasks of one
 * millisecond on different partitions are ordered by id (ids made in one process count up, so
 * that is their enqueue order).
 */
import type { CleanQuery, FinishedStatus, ListQuery } from '../../engine/storage';
import { TASK_STATUSES, TaskRecord, TaskStatus } from '../../task/task-record';
import { badRecord } from '../bad-record';
import { decodeRecord } from './record-codec';
import type { QueueKeys } from './queue-keys';
import type { RedisStorage } from './redis-storage';

/** A record of the list script's reply (a key that is not a task hash comes as `st ?`). */
export function rowRecord(row: string[], id: string): TaskRecord | undefined {
  return row.length === 2 && row[0] === 'st' && row[1] === '?' ? badRecord(id, 'it is not a task hash') : decodeRecord(row, id);
}

/** The counts of every partition, added up. */
export async function countsOver(parts: Promise<Record<TaskStatus, number>>[]): Promise<Record<TaskStatus, number>> {
  const all = await Promise.all(parts);
  const out = {} as Record<TaskStatus, number>;
  for (const s of TASK_STATUSES) out[s] = all.reduce((n, c) => n + (c[s] ?? 0), 0);
  return out;
}

/** Order of ids made in one process (a base-36 counter after a fixed prefix): shorter is older. */
function idOrder(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** True when `a` was created after `b` (same millisecond: the later id). */
function newer(a: TaskRecord, b: TaskRecord): boolean {
  return a.createdAt > b.createdAt || (a.createdAt === b.createdAt && idOrder(a.id, b.id) > 0);
}

interface Reader {
  k: QueueKeys;
  cursor: string;
  buf: TaskRecord[];
  done: boolean;
}

/** What a `list` query asks of the list script and of each record it returns. */
export interface ListPlan {
  /** The statuses for the script (comma-separated, '' for any). */
  statuses: string;
  /** True when records are filtered here (pages cannot be sized from the offset alone). */
  filtered: boolean;
  skip: number;
  limit: number;
  keep(rec: TaskRecord): boolean;
}

/** Reads a `list` query once, for one partition or many. */
export function listPlan(query: ListQuery): ListPlan {
  const wanted = query.status === undefined ? undefined : new Set<string>(Array.isArray(query.status) ? query.status : [query.status]);
  return {
    statuses: wanted === undefined ? '' : [...wanted].join(','),
    filtered: wanted !== undefined || query.name !== undefined || query.since !== undefined || query.until !== undefined,
    skip: Math.max(0, query.offset ?? 0),
    limit: query.limit === undefined ? Infinity : Math.max(0, query.limit),
    keep: (rec) =>
      (wanted === undefined || wanted.has(rec.status)) &&
      (query.name === undefined || rec.name === query.name) &&
      (query.since === undefined || rec.createdAt >= query.since) &&
      (query.until === undefined || rec.createdAt < query.until),
  };
}

/** `list` over every partition: filtered records of all partitions, newest first, then paged. */
export async function listOver(s: RedisStorage, query: ListQuery, chunkMax: number): Promise<TaskRecord[]> {
  await s.counts(); // drops expired records first
  const plan = listPlan(query);
  const { statuses, filtered, limit, keep } = plan;
  let skip = plan.skip;
  const out: TaskRecord[] = [];
  const fill = async (r: Reader): Promise<void> => {
    while (r.buf.length === 0 && !r.done) {
      const chunk = filtered ? chunkMax : Math.min(chunkMax, Math.max(16, skip + limit - out.length));
      const res = (await s.call('list', () => s.link.script('list')([r.k.all], [r.k.task, statuses, r.cursor, chunk]))) as (string | string[])[];
      for (let i = 1; i + 1 < res.length; i += 2) {
        const rec = rowRecord(res[i + 1] as string[], res[i] as string);
        if (rec !== undefined && keep(rec)) r.buf.push(rec);
      }
      r.cursor = res[0] as string;
      if (r.cursor === '') r.done = true;
    }
  };
  const readers: Reader[] = s.parts.map((k) => ({ k, cursor: '+inf', buf: [], done: false }));
  while (out.length < limit) {
    await Promise.all(readers.map(fill));
    let best: Reader | undefined;
    for (const r of readers) if (r.buf.length > 0 && (best === undefined || newer(r.buf[0], best.buf[0]))) best = r;
    if (best === undefined) break;
    const rec = best.buf.shift()!;
    if (skip > 0) skip--;
    else out.push(rec);
  }
  return out;
}

/** A finished task that `clean` may remove: where it is, and when it finished. */
interface Candidate {
  part: number;
  status: FinishedStatus;
  id: string;
  at: number;
}

/**
 * `clean` with a limit over every partition: reads the oldest finished ids of each partition and
 * status (as the clean script walks them), keeps the `limit` oldest of the queue, then runs the
 * clean script on each partition and status for its share. Returns how many were removed.
 */
export async function cleanOver(s: RedisStorage, query: CleanQuery, limit: number): Promise<number> {
  if (limit <= 0) return 0;
  const lists: Record<FinishedStatus, (k: QueueKeys) => string> = { success: (k) => k.doneSuccess, error: (k) => k.doneError, cancel: (k) => k.doneCancel };
  const found = await Promise.all(
    s.parts.map(async (k, part) => {
      const out: Candidate[] = [];
      for (const status of query.statuses) {
        const ids = await s.call('clean', (r) => r.lrange(lists[status](k), 0, limit - 1));
        if (ids.length === 0) continue;
        const rows = (await s.call('clean', (r) => {
          const pipe = r.pipeline();
          for (const id of ids) pipe.hmget(k.task + id, 'st', 'fa');
          return pipe.exec();
        })) as [Error | null, (string | null)[]][];
        for (let i = 0; i < ids.length; i++) {
          const [st, fa] = rows[i]?.[1] ?? [];
          if (st !== status) continue; // gone already: the script drops it without counting it
          const at = Number(fa ?? 0);
          if (at > query.finishedBefore) break;
          out.push({ part, status, id: ids[i], at });
        }
      }
      return out;
    }),
  );
  const oldest = found.flat().sort((a, b) => a.at - b.at || idOrder(a.id, b.id)).slice(0, limit);
  const share = new Map<string, { part: number; status: FinishedStatus; n: number }>();
  for (const c of oldest) {
    const key = `${c.part}:${c.status}`;
    const e = share.get(key);
    if (e === undefined) share.set(key, { part: c.part, status: c.status, n: 1 });
    else e.n++;
  }
  let removed = 0;
  for (const { part, status, n } of share.values()) removed += await s.cleanOf(s.parts[part], query.finishedBefore, n, [status]);
  return removed;
}
