/**
 * Dispatch of the in-memory engine: the ready tasks in priority-then-FIFO order, the delayed ones
 * (and those waiting for a retry) behind one timer, and the hand-over to the consumer in bursts —
 * one microtask per burst, no timer and no promise per task.
 */
import type { Consumer } from '../../engine/broker';
import { isFiniteNumber } from '../bad-record';
import { DelayTimer } from './delay-timer';
import { MemRecord, memProblem } from './mem-record';
import type { MemoryStorage } from './memory-storage';
import { PriorityFifo } from './priority-fifo';

/** What the dispatcher needs from its broker. */
export interface DispatchHost {
  /** The storage whose records are queued. */
  storage(): MemoryStorage;
  /** Ends a task whose stored record cannot be used, without running it. */
  poison(rec: MemRecord, reason: string): void;
}

/** The queue of one memory broker and its consumer. */
export class MemoryDispatcher {
  /** The worker taking tasks, if any. */
  consumer: Consumer | undefined;
  paused = false;
  private readonly ready = new PriorityFifo<MemRecord>();
  private readonly delayed = new DelayTimer<MemRecord>(
    (rec, now) => this.promote(rec, now),
    () => this.schedule(),
  );
  private scheduled = false;
  private draining = false;
  private again = false;
  private stopped = false;
  private readonly drainFn = () => this.drain();
  /**
   * The last attempt ended within the current burst, and when: a task that ran and ended
   * synchronously lets the next one start at its end time without another clock read (reading the
   * clock costs a few hundred nanoseconds on some virtual machines). Only engine code runs between
   * that end and the next start; anything else (a listener, the task's own code after it ended
   * another task) clears it.
   */
  private endedRec: MemRecord | undefined = undefined;
  private endedAt = 0;

  constructor(private readonly host: DispatchHost) {}

  /** Tasks waiting in the ready queue (not delayed). */
  get readyCount(): number {
    return this.ready.size;
  }

  /** Queues a task that is due now. */
  pushReady(rec: MemRecord): void {
    rec.queued = true;
    this.ready.push(rec, rec.priority);
    if (this.consumer !== undefined) this.schedule();
  }

  /** Queues a task handed back by a stopping worker ahead of those of its priority. */
  pushFront(rec: MemRecord): void {
    rec.queued = true;
    this.ready.pushFront(rec, rec.priority);
  }

  /** Queues a task that is due at `runAt`. */
  pushDelayed(rec: MemRecord, runAt: number): void {
    rec.queued = true;
    rec.runAt = runAt;
    this.delayed.push(rec, runAt);
  }

  /** Notes that `rec`'s attempt ended at `now`, with no user code run since the clock was read. */
  ended(rec: MemRecord, now: number): void {
    this.endedRec = rec;
    this.endedAt = now;
  }

  /** Dispatches what is ready once the current burst of work is over. */
  schedule(): void {
    if (this.draining) {
      this.again = true;
      return;
    }
    if (this.scheduled || this.consumer === undefined) return;
    this.scheduled = true;
    queueMicrotask(this.drainFn);
  }

  /** Forgets every queued task and stops the delay timer (the engine closes). */
  stop(): void {
    this.stopped = true;
    this.consumer = undefined;
    this.delayed.stop();
    this.ready.clear();
  }

  /** A delayed or retrying task is due: into the ready queue (unless cancelled or removed meanwhile). */
  private promote(rec: MemRecord, now: number): void {
    if (!rec.queued || (rec.status !== 'delayed' && rec.status !== 'retry')) return;
    if (!isFiniteNumber(rec.priority)) {
      rec.queued = false;
      this.host.poison(rec, 'its priority is not a number');
      return;
    }
    if (rec.status === 'delayed') this.host.storage().setStatus(rec, 'new', now);
    this.ready.push(rec, rec.priority);
  }

  private drain(): void {
    this.scheduled = false;
    this.draining = true;
    const storage = this.host.storage();
    // an end before this burst is no clock: user code may have run since
    this.endedRec = undefined;
    /** The record run last in this burst. */
    let last: MemRecord | undefined;
    try {
      do {
        this.again = false;
        const consumer = this.consumer;
        if (consumer === undefined || this.paused || this.stopped) return;
        const workerId = consumer.workerId;
        let free = consumer.capacity();
        while (free > 0) {
          const rec = this.ready.shift();
          if (rec === undefined) break;
          if (!rec.queued) continue;
          rec.queued = false;
          // records are checked when stored; what can change in place since (a plugin or a bug
          // writing to the stored object) is checked here, in full only when it looks wrong
          if (rec.id !== rec.key || typeof rec.name !== 'string' || !Array.isArray(rec.args)) {
            const problem = memProblem(rec, rec.key);
            if (problem !== undefined) {
              // a record with fields of the wrong type never runs; the burst goes on
              this.host.poison(rec, problem);
              continue;
            }
          }
          // the previous task of this burst ended within its run: its end time is now
          const now = last !== undefined && this.endedRec === last ? this.endedAt : Date.now();
          this.endedRec = undefined;
          rec.attempt++;
          rec.startedAt = now;
          rec.workerId = workerId;
          storage.setStatus(rec, 'process', now);
          last = rec;
          consumer.run(rec);
          free = consumer.capacity();
        }
      } while (this.again);
    } finally {
      this.draining = false;
      this.endedRec = undefined;
    }
  }
}
