/**
 * Delayed tasks of the in-memory engine: a heap by due time and one timer for the earliest, never
 * a timer per task.
 */
import { MinHeap } from '../../collections/min-heap';

/** Longest delay a Node timer takes. */
const MAX_TIMER_MS = 2_147_483_647;

/** Items due at a time; `release(now)` is called with each due item, then `after()` once per firing. */
export class DelayTimer<T> {
  private readonly heap = new MinHeap<T>();
  private timer: NodeJS.Timeout | undefined;
  private due = Infinity;
  private stopped = false;

  constructor(
    private readonly release: (item: T, now: number) => void,
    private readonly after: () => void,
  ) {}

  /** Adds `item`, due at `at` (ms since epoch). */
  push(item: T, at: number): void {
    this.heap.push(item, at);
    if (at < this.due) this.arm();
  }

  /** Stops the timer and forgets every item. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.heap.clear();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.due = this.heap.peekKey();
    if (this.due === Infinity || this.stopped) return;
    // clamped: Node fires a longer timeout at once (delays of weeks would spin)
    this.timer = setTimeout(() => this.fire(), Math.min(MAX_TIMER_MS, Math.max(0, this.due - Date.now())));
  }

  private fire(): void {
    this.timer = undefined;
    const now = Date.now();
    while (this.heap.peekKey() <= now) this.release(this.heap.pop()!, now);
    this.arm();
    this.after();
  }
}
