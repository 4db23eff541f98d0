/**
 * Helpers of the operations tests: unique queue names, polling until a condition holds, and the
 * engines (memory, Redis) the TaskManager suite runs on.
 */
import type { QTasks, QTasksOptions } from 'qtasks';

let seq = 0;

/** A queue name no other test uses. */
export function uniqueQueue(tag: string): string {
  return `ops-${tag}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
}

/** Polls `check` until it returns a value other than undefined/false; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** How a suite makes apps on one engine. */
export interface OpsEngine {
  label: string;
  /** True when two apps made for one queue see the same tasks and workers (Redis). */
  shared: boolean;
  /** A new app on `queue` (never started). */
  make(queue: string, options?: QTasksOptions): QTasks;
  /** Removes what the engine kept for `queue` (after every app is closed). */
  cleanup(queue: string): Promise<void>;
}
