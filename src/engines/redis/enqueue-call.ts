/**
 * The arguments and the answer of the enqueue script (`lua/add-1.lua`). Tasks due now that share
 * one priority (a bulk add, a plain `addTask`) are sent as two strings each, id and head; others as
 * four (id, head, priority, runAt). A head is the task's fixed JSON that the script completes with
 * the enqueue seq (see {@link fixedHead}).
 */
import type { TaskRecord } from '../../task/task-record';
import { fixedHead } from './record-codec';

/** The priority of every record as the script takes it, when all are due now; else ''. */
export function sharedPriority(records: readonly TaskRecord[]): string {
  let pri: number | undefined;
  for (const r of records) {
    if (r.status === 'delayed' && r.runAt !== undefined) return '';
    if (pri === undefined) pri = r.priority;
    else if (r.priority !== pri) return '';
  }
  return pri === undefined ? '' : String(pri);
}

/**
 * Tasks per script call for `records`: `size`, or all of them in one call when a priority or runAt
 * is not a finite number, so that the script refuses the whole batch before writing any of it.
 */
export function callSize(records: readonly TaskRecord[], size: number): number {
  for (const r of records) {
    if (!Number.isFinite(r.priority) || (r.runAt !== undefined && !Number.isFinite(r.runAt))) return Math.max(records.length, 1);
  }
  return size;
}

/**
 * Appends records `from` to `to` to the script arguments `args` (whose ARGV[5] is
 * {@link sharedPriority} of them: `shared`).
 */
export function pushTasks(args: (string | number)[], records: readonly TaskRecord[], from: number, to: number, shared: string): void {
  if (shared !== '') {
    for (let i = from; i < to; i++) args.push(records[i].id, fixedHead(records[i]));
    return;
  }
  for (let i = from; i < to; i++) {
    const r = records[i];
    const delayed = r.status === 'delayed' && r.runAt !== undefined;
    args.push(r.id, fixedHead(r), String(r.priority), delayed ? r.runAt! : '');
  }
}

/** The script's answer: ids that existed (flat: index in the call, HGETALL), tasks claimed (flat: id, data, attempt). */
export type AddReply = [existing: (number | string[])[], claimed: string[]];

/**
 * The add script's reply as an {@link AddReply}: the script answers 0 when both lists are empty,
 * and the claimed tasks alone (a list that starts with an id) when no id existed.
 */
export function addReply(res: unknown): AddReply {
  if (res === 0) return [[], []];
  const r = res as AddReply | string[];
  return typeof r[0] === 'string' ? [[], r as string[]] : (r as AddReply);
}
