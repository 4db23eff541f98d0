/**
 * Retention of finished tasks (`removeOnComplete` / `removeOnFail`): the option's shapes, their
 * checks, and the one normalised form every engine applies when a task ends.
 */
import { ErrorCodes, QTasksError } from '../errors';

/**
 * How long a finished task is kept: `true` drops it as soon as it ends (its `result()` still
 * settles), `false` (default) keeps it for `resultTtlMs`, a number `n` keeps the queue's newest `n`
 * tasks that ended the same way, `{ age, count }` keeps those that ended within the last `age` ms
 * (milliseconds, like every duration in qtasks; BullMQ counts seconds) and at most `count` of them.
 */
export type RetentionOption = boolean | number | { age?: number; count?: number };

/** A retention in the form engines apply. */
export interface Retention {
  /** Drop the task itself as soon as it ends. */
  now: boolean;
  /** Keep at most this many tasks of that end (the task itself included), newest first. */
  count?: number;
  /** Drop tasks of that end that finished more than this many ms ago. */
  age?: number;
}

/** The normalised retention, undefined when the task is kept as usual. */
export function retentionOf(opt: RetentionOption | undefined): Retention | undefined {
  if (opt === undefined || opt === false) return undefined;
  if (opt === true || opt === 0) return { now: true };
  if (typeof opt === 'number') return { now: false, count: opt };
  if (opt.count === 0) return { now: true };
  if (opt.count === undefined && opt.age === undefined) return undefined;
  const out: Retention = { now: false };
  if (opt.count !== undefined) out.count = opt.count;
  if (opt.age !== undefined) out.age = opt.age;
  return out;
}

/**
 * True when the task is dropped at its end for some outcome (`removeOnComplete` or `removeOnFail`
 * dropping at once), or, with `status`, for that final status: its record cannot be read after
 * that end, only heard.
 */
export function dropsAtEnd(rec: { removeOnComplete?: RetentionOption; removeOnFail?: RetentionOption }, status?: string): boolean {
  const ok = status === undefined || status === 'success';
  const bad = status === undefined || status === 'error';
  return (ok && rec.removeOnComplete !== undefined && retentionOf(rec.removeOnComplete)?.now === true) ||
    (bad && rec.removeOnFail !== undefined && retentionOf(rec.removeOnFail)?.now === true);
}

/** Throws `QTASKS_ERR_BAD_OPTION` for a retention of the wrong shape. */
export function checkRetention(opt: unknown, where: string): void {
  if (opt === undefined || typeof opt === 'boolean') return;
  const count = (n: unknown) => n === undefined || (Number.isInteger(n) && (n as number) >= 0);
  const age = (n: unknown) => n === undefined || (typeof n === 'number' && Number.isFinite(n) && n >= 0);
  const ok =
    typeof opt === 'number'
      ? count(opt)
      : opt !== null && typeof opt === 'object' && !Array.isArray(opt) &&
        Object.keys(opt).every((k) => k === 'age' || k === 'count') &&
        count((opt as { count?: unknown }).count) && age((opt as { age?: unknown }).age);
  if (!ok) {
    throw new QTasksError(
      ErrorCodes.BAD_OPTION,
      `${where} must be true, false, a count of tasks to keep (integer >= 0) or { age: ms, count }, got ${shown(opt)}`,
    );
  }
}

/** A value for an error message (any value: JSON.stringify throws on BigInt). */
function shown(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return typeof v;
  }
}
