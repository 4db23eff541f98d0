/**
 * Helpers of the operations tests: unique queue names, polling until a condition holds, and the
 * engines (memory, Redis) the TaskManager suite runs on.
 */
import { request } from 'node:http';
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

/** One server-sent event. */
export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Reads the event stream at `url` into `events` until `stop()` or the server ends it (`ended`). */
export function collectEvents(url: string): { events: SseEvent[]; ended: Promise<void>; stop: () => void } {
  const events: SseEvent[] = [];
  const req = request(url);
  const ended = new Promise<void>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let at: number;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
        }
      });
      res.on('end', () => resolve());
      res.on('close', () => resolve());
    });
  });
  ended.catch(() => undefined);
  req.end();
  return { events, ended, stop: () => req.destroy() };
}
