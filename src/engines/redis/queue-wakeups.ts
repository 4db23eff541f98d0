/**
 * How an idle Redis worker learns that there is work again without polling: a blocking pop
 * (BZPOPMIN) on the queue's marker on its own connection, and a timer for the next delayed task
 * the finish script reported.
 */
import type { Redis } from 'ioredis';
import type { RedisStorage } from './redis-storage';

/** Longest blocking pop, in seconds (a lost marker costs at most this). */
const SAFETY_BLOCK_S = 5;

/** The wake-ups of one worker; `wake` is called when there may be work. */
export class QueueWakeups {
  private blocker: Redis | undefined;
  private dueTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** True while a blocking pop waits (the marker then reports new tasks). */
  blocking = false;

  constructor(
    private readonly storage: RedisStorage,
    private readonly wake: () => void,
  ) {}

  /** Opens the blocking connection. */
  start(): void {
    this.blocker = this.storage.link.blocker();
  }

  /** Waits on the marker (once at a time). */
  block(): void {
    if (this.blocking || !this.blocker || this.stopped) return;
    this.blocking = true;
    const blocker = this.blocker;
    blocker.bzpopmin(this.storage.keys.marker, SAFETY_BLOCK_S).then(
      () => {
        this.blocking = false;
        this.wake();
      },
      () => {
        this.blocking = false;
        if (this.stopped) return;
        if (blocker.status === 'ready') setTimeout(this.wake, 50);
        else blocker.once('ready', this.wake);
      },
    );
  }

  /** Wakes the worker when the next delayed task is due (`next`: its runAt, or '' for none). */
  armDue(next: string): void {
    if (next === '' || this.stopped) return;
    const at = Number(next);
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimer = setTimeout(() => {
      this.dueTimer = undefined;
      this.wake();
    }, Math.max(0, at - Date.now()));
  }

  /** Stops the timer and closes the blocking connection. */
  stop(): void {
    this.stopped = true;
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimer = undefined;
    if (this.blocker) this.storage.link.release(this.blocker);
    this.blocker = undefined;
  }
}
