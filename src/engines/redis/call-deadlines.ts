/**
 * The deadlines of the calls a {@link RedisLink} has in flight, watched by one timer instead of a
 * timer per call: an enqueue or finish answered in a fraction of a millisecond no longer creates
 * and clears a timer of its own. The timer fires at the earliest deadline known when it was set;
 * it then expires the calls that are due and is set again for the next one. It keeps the process
 * alive only while a call waits.
 */

/** A call waiting for its answer; `expire` is called once its deadline has passed. */
export interface DeadlineEntry {
  deadline: number;
  expire: () => void;
}

export class CallDeadlines {
  private readonly entries = new Set<DeadlineEntry>();
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (Infinity: no timer). */
  private timerAt = Infinity;
  private readonly sweepFn = () => this.sweep();

  /** Watches a call that expires `limitMs` from now; returns its entry for {@link settle}. */
  watch(limitMs: number, expire: () => void): DeadlineEntry {
    const entry = { deadline: Date.now() + limitMs, expire };
    this.entries.add(entry);
    if (entry.deadline < this.timerAt) this.arm(entry.deadline);
    else if (this.entries.size === 1) this.timer?.ref();
    return entry;
  }

  /** The call was answered (or given up): it no longer expires. */
  settle(entry: DeadlineEntry): void {
    if (this.entries.delete(entry)) this.unrefWhenIdle();
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.sweepFn, Math.max(1, at - Date.now()));
  }

  private sweep(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const e of this.entries) {
      if (e.deadline <= now) {
        this.entries.delete(e);
        e.expire();
      } else if (e.deadline < next) next = e.deadline;
    }
    // an expire may have watched a new call (and set the timer)
    if (next < this.timerAt) this.arm(next);
    this.unrefWhenIdle();
  }

  /** No call waits: the timer (if any) does not keep the process alive. */
  private unrefWhenIdle(): void {
    if (this.entries.size === 0) this.timer?.unref();
  }
}
