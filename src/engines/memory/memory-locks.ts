/**
 * Timer locks and sliding-window rate limits of the in-memory engine (one process shares them).
 */

/** `tryLock` and `rateLimit` of the memory broker. */
export class MemoryLocks {
  private readonly locks = new Map<string, number>();
  private readonly windows = new Map<string, number[]>();

  /** Takes `key` for `ttlMs` unless it is held; true when taken. */
  async tryLock(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const until = this.locks.get(key);
    if (until !== undefined && until > now) return false;
    this.locks.set(key, now + ttlMs);
    if (this.locks.size > 1024) for (const [k, t] of this.locks) if (t <= now) this.locks.delete(k);
    return true;
  }

  /** Records a start under `key` and returns 0, or the ms to wait when `max` starts happened in the last `perMs`. */
  async rateLimit(key: string, max: number, perMs: number): Promise<number> {
    const now = Date.now();
    let starts = this.windows.get(key);
    if (!starts) this.windows.set(key, (starts = []));
    while (starts.length > 0 && starts[0] <= now - perMs) starts.shift();
    if (starts.length < max) {
      starts.push(now);
      return 0;
    }
    return Math.max(1, starts[0] + perMs - now);
  }
}
