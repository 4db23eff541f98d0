/**
 * How an idle Redis worker learns that there is work again without polling: a blocking pop
 * (BZPOPMIN) on its inbox and the queue's marker at once, on its own connection, and a timer for
 * the next delayed task the finish script reported. A task an enqueue handed over (into the inbox,
 * claimed for this worker already) arrives in the pop's reply: it runs without another round trip.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { PartitionScope } from './partition-scope';

/** Longest blocking pop, in seconds (a lost marker costs at most this). */
const SAFETY_BLOCK_S = 5;

/** The wake-ups of one worker; `wake` is called when there may be work. */
export class QueueWakeups {
  private blocker: Redis | undefined;
  private dueTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** True while a blocking pop waits (the marker then reports new tasks). */
  blocking = false;

  /**
   * `wake` is called when there may be work; `handed` with an inbox entry (`count\ndata\nid`, see
   * {@link QueueKeys.inbox}) taken by the pop.
   */
  constructor(
    private readonly storage: PartitionScope,
    private readonly workerId: string,
    private readonly wake: () => void,
    private readonly handed: (entry: string) => void,
  ) {}

  /**
   * The blocking connection when it is ready and no pop waits on it: a call sent on it now runs
   * before the next pop (see {@link LeaseRounds.reconcile}).
   */
  get connection(): Redis | undefined {
    return !this.blocking && !this.stopped && this.blocker?.status === 'ready' ? this.blocker : undefined;
  }

  /** Opens the blocking connection. */
  start(): void {
    this.blocker = this.storage.link.blocker();
  }

  /**
   * Waits on the inbox and the marker (once at a time); with `pipe` (a pipeline of the blocking
   * connection), the pop is queued on it, to run right behind its other commands.
   */
  block(pipe?: ChainableCommander): void {
    if (this.blocking || !this.blocker || this.stopped) return;
    this.blocking = true;
    const blocker = this.blocker;
    const inbox = this.storage.keys.inbox + this.workerId;
    const popped = (res: [string, string, string] | null | undefined): void => {
      this.blocking = false;
      if (res != null && res[0] === inbox) this.handed(res[1]);
      else this.wake();
    };
    const failed = (): void => {
      this.blocking = false;
      if (this.stopped) return;
      if (blocker.status === 'ready') setTimeout(this.wake, 50);
      else blocker.once('ready', this.wake);
    };
    // queued on a pipeline, the reply is taken in the command's callback (no promise of its own)
    if (pipe === undefined) blocker.bzpopmin(inbox, this.storage.keys.marker, SAFETY_BLOCK_S).then(popped, failed);
    else pipe.bzpopmin(inbox, this.storage.keys.marker, SAFETY_BLOCK_S, (err, res) => (err ? failed() : popped(res)));
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
