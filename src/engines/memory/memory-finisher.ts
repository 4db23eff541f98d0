/**
 * How an attempt ends in the in-memory engine: the outcome written onto the stored record in
 * place, its retention applied, a retry queued again, waiters and listeners told — and the end of
 * a task whose record cannot be used (`QTASKS_ERR_BAD_RECORD`).
 */
import type { EngineContext, EngineEventMap, Outcome } from '../../engine/broker';
import { ErrorCodes } from '../../errors';
import { retentionOf } from '../../task/retention';
import { retriedAttempt } from '../../task/task-history';
import { badRecordError, isFiniteNumber } from '../bad-record';
import type { MemRecord } from './mem-record';
import type { MemoryDispatcher } from './memory-dispatcher';
import type { MemoryStorage } from './memory-storage';
import { endWatchers } from './memory-waiters';

/** The event of each final status. */
const END_EVENTS = { success: 'task:success', error: 'task:error', cancel: 'task:cancel' } as const;

/** Writes the ends of attempts onto stored records. */
export class MemoryFinisher {
  constructor(
    private readonly storage: MemoryStorage,
    private readonly dispatch: MemoryDispatcher,
    private readonly ctx: () => EngineContext,
  ) {}

  /** Ends the attempt of `rec` (a running task) with `outcome` at time `now`; returns the record. */
  finish(rec: MemRecord, outcome: Outcome, now: number): MemRecord {
    let told = false;
    switch (outcome.status) {
      case 'success':
        rec.returning = outcome.returning;
        rec.error = undefined;
        told = this.end(rec, 'success', now);
        if (rec.removeOnComplete) this.retain(rec, 'success', now);
        break;
      case 'error':
        rec.error = outcome.error;
        told = this.end(rec, 'error', now);
        if (rec.removeOnFail) this.retain(rec, 'error', now);
        break;
      case 'cancel':
        rec.cancelReason = outcome.reason;
        told = this.end(rec, 'cancel', now);
        break;
      case 'retry': {
        if (!isFiniteNumber(rec.priority)) return this.poison(rec, 'its priority is not a number');
        rec.error = outcome.error;
        const history = (rec.history ??= []);
        history.push(retriedAttempt(rec, outcome.error, now));
        const max = this.ctx().config.maxAttemptHistory;
        if (history.length > max) history.splice(0, history.length - max);
        this.storage.setStatus(rec, 'retry', now);
        if (outcome.delayMs > 0) this.dispatch.pushDelayed(rec, now + outcome.delayMs);
        else this.dispatch.pushReady(rec);
        told = this.emit('task:retry', rec);
        break;
      }
      case 'handback':
        if (!isFiniteNumber(rec.priority)) return this.poison(rec, 'its priority is not a number');
        rec.attempt = Math.max(0, rec.attempt - 1);
        this.storage.setStatus(rec, 'new', now);
        this.dispatch.pushFront(rec);
        break;
    }
    // no listener ran since `now` was read: the dispatcher may start the next task at this time
    if (!told) this.dispatch.ended(rec, now);
    this.dispatch.schedule();
    return rec;
  }

  /** Cancels a task that is not running (queued, delayed, waiting for a retry). */
  cancelQueued(rec: MemRecord, reason: string | undefined): void {
    rec.queued = false;
    rec.cancelReason = reason;
    this.end(rec, 'cancel', Date.now());
  }

  /**
   * Ends a task whose stored record cannot be used (`error`, `QTASKS_ERR_BAD_RECORD`) without
   * running it (again); returns the record as stored.
   */
  poison(rec: MemRecord, reason: string): MemRecord {
    rec.error = badRecordError(rec.key, reason);
    this.ctx().logger.warn('A task record cannot be used: the task ends error', { id: rec.key, code: ErrorCodes.BAD_RECORD, reason });
    this.end(rec, 'error', Date.now());
    this.dispatch.schedule();
    return rec;
  }

  /** Sets a final status, then tells waiters, watchers and listeners; true when a listener ran. */
  private end(rec: MemRecord, status: 'success' | 'error' | 'cancel', now: number): boolean {
    rec.finishedAt = now;
    this.storage.setStatus(rec, status, now);
    endWatchers(rec);
    return this.emit(END_EVENTS[status], rec);
  }

  private retain(rec: MemRecord, status: 'success' | 'error', now: number): void {
    const r = retentionOf(status === 'success' ? rec.removeOnComplete : rec.removeOnFail);
    if (r !== undefined) this.storage.retain(rec, status, r, now);
  }

  /** Tells the listeners of `event`, if any (true then). */
  private emit(event: keyof EngineEventMap, rec: MemRecord): boolean {
    // the app's event hub hands listeners a copy
    const ctx = this.ctx();
    if (!ctx.listens(event)) return false;
    ctx.emit(event as 'task:success', { record: rec });
    return true;
  }
}
