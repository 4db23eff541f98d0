/**
 * The retry of finish calls that failed for a reason other than a lost connection (a script error,
 * OOM, BUSY, a redirection not followed): their tasks would otherwise stay `process` as long as the
 * worker lives, since the reconcile leaves alone the tasks it knows. Each end is sent again, alone
 * (an end that makes the script fail does not take the others down with it), after a short wait,
 * up to {@link FINISH_TRIES} calls. Sending an end again is safe: the script records the end of a
 * task the worker still holds only, so an end that a script failing part way recorded already is
 * answered '0' and settles undefined. An end still failing then is given up: its task is
 * forgotten, so that the next reconcile (see `LeaseRounds.reconcile`; within a blocking pop, 5 s)
 * finds it held but unknown and puts it back in the queue as it does the task of a lost claim
 * reply, counted neither as a stall nor as an attempt (or ends it `cancel` when a cancel was
 * asked), and it runs again; the end's promise rejects with the error.
 */
import type { Logger } from '../../logger';
import type { End } from './finish-batch';

/**
 * How many finish calls carry an end before the worker gives it up, when they fail for a reason
 * other than a lost connection; the waits before each new try follow.
 */
export const FINISH_TRIES = 4;
const FINISH_RETRY_MS = [20, 100, 400];

/** What the retries need of their worker. */
export interface RetryHost {
  /** True once the worker is closed: an end that fails then is given up at once. */
  readonly closed: boolean;
  /** Forgets a task whose end is given up. */
  release(id: string): void;
  /** Sends one end again, alone, in a finish call that claims nothing. */
  resend(e: End): void;
  /** Ends were given up: a reconcile is due (it puts their tasks back in the queue). */
  reconcileDue(): void;
}

/** The failed finish calls of one worker, and the ends waiting to be sent again. */
export class FinishRetries {
  private waiting = 0;

  constructor(
    private readonly ctx: { readonly logger: Logger },
    private readonly host: RetryHost,
  ) {}

  /** Ends waiting to be sent again. */
  get pending(): number {
    return this.waiting;
  }

  /** A finish call carrying `batch` failed with `err` (not a lost connection). */
  failed(batch: End[], err: Error): void {
    const again: End[] = [];
    const given: string[] = [];
    for (const e of batch) {
      const n = (e.failures = (e.failures ?? 0) + 1);
      if (n < FINISH_TRIES && !this.host.closed) again.push(e);
      else {
        this.host.release(e.rec.id);
        given.push(e.rec.id);
        e.reject(err);
      }
    }
    const log = this.ctx.logger;
    if (given.length > 0) {
      log.error('Recording task ends failed: their tasks go back to the queue', { error: err, ids: given });
      this.host.reconcileDue();
    }
    if (again.length === 0) return;
    log.warn('Recording task ends failed: they are sent again', { error: err, ids: again.map((e) => e.rec.id) });
    this.waiting += again.length;
    for (const e of again) {
      setTimeout(() => {
        this.waiting--;
        if (this.host.closed) this.failed([e], err);
        else this.host.resend(e);
      }, FINISH_RETRY_MS[Math.min(e.failures!, FINISH_RETRY_MS.length) - 1]).unref();
    }
  }
}
