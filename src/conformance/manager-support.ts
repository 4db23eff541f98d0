/**
 * What the TaskManager suite asks of an engine (`ManagerEngine`) and its polling helper.
 */
import type { QTasks, QTasksOptions } from '..';

/** How the TaskManager suite makes apps on one engine. */
export interface ManagerEngine {
  label: string;
  /** True when two apps made for one queue see the same tasks and workers (shared engines). */
  shared: boolean;
  /** A new app on `queue` (never started). */
  make(queue: string, options?: QTasksOptions): QTasks;
  /** Removes what the engine kept for `queue` (after every app is closed). */
  cleanup(queue: string): Promise<void>;
}

/** Polls `check` until it returns a value other than undefined/false; fails after `timeoutMs`. */
export async function waitForValue<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
