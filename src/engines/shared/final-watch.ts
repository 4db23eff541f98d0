/**
 * What a notifier does with the ends it hears, the same on every engine that announces ends on a
 * channel (Redis, PostgreSQL): it settles waiting `result()` calls ({@link ResultWaiters}) and
 * `stream()` readers ({@link ItemWatchers}), fires the end events of this process, reads a record
 * announced by id only, remembers the tasks this process enqueued while listening (their end cannot
 * be missed, so `result()` waits for it without reading), and makes up for notifications lost while
 * disconnected by re-reading what is awaited on a slow timer. The engine's notifier keeps its
 * connection and its message format and hands this part the records.
 */
import type { EngineContext, EngineEventMap, StreamEndListener, StreamItemListener } from '../../engine/broker';
import { ClosedError } from '../../errors';
import { isFinal, TaskRecord } from '../../task/task-record';
import { ItemSource, ItemWatchers } from './item-watchers';
import { ResultWaiters } from './result-waiters';
import { END_EVENTS } from './task-events';

/** What the shared part asks of the engine's listening connection. */
export interface ListenState {
  /** Bumped at every break of the listening connection (notifications may have been lost). */
  epoch(): number;
  /** True while listening is up without a break since it was confirmed. */
  live(): boolean;
  /** Resolves when listening is up; rejects (`QTASKS_ERR_BROKER_UNAVAILABLE`) when it cannot be. */
  ready(what: string): Promise<void>;
}

const EVENT_OF: Record<string, keyof EngineEventMap> = { success: 'task:success', error: 'task:error', cancel: 'task:cancel', retry: 'task:retry' };
const RECHECK_MS = 3_000;
const RECENT_MAX = 20_000;

/** A task this process enqueued while listening, with its end once heard. */
interface Noted {
  readonly id: string;
  epoch: number;
  rec?: TaskRecord;
}

/** Waiting calls, stream readers and end events of one process on one queue. */
export class FinalWatch {
  private readonly waiters = new ResultWaiters();
  private readonly watchers: ItemWatchers;
  /**
   * Tasks this process enqueued while listening, with the end once it is heard: at most
   * `RECENT_MAX`, the oldest noted (first noted, re-noting keeps the place) goes first.
   */
  private readonly recent = new Map<string, Noted>();
  /**
   * The noted entries in the order noted, from `orderHead` on; entries since forgotten stay until
   * passed over, or leave at once from either end (an entry is live while `recent` maps its id to
   * it; see {@link unnote}). Finding the oldest live entry this way costs O(1) amortized, where
   * taking the first key of `recent` skips every deleted slot at the front of the map's table.
   * Compacted when it reaches twice `RECENT_MAX`, so bounded.
   */
  private order: (Noted | undefined)[] = [];
  private orderHead = 0;
  private recheckTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /** @param recordFirst see {@link ItemWatchers} */
  constructor(
    private readonly storage: ItemSource,
    private readonly ctx: EngineContext,
    private readonly listening: ListenState,
    recordFirst = false,
  ) {
    this.watchers = new ItemWatchers(storage, recordFirst);
  }

  /** Notes tasks about to be enqueued while listening; returns false when not listening. */
  noteEnqueued(ids: string[]): boolean {
    if (!this.listening.live()) return false;
    const epoch = this.listening.epoch();
    const recent = this.recent;
    for (const id of ids) {
      if (recent.size >= RECENT_MAX) this.evictOldest();
      const had = recent.get(id);
      if (had !== undefined) {
        // noted again (its place stays): as the map's set did, the heard end is dropped
        had.epoch = epoch;
        had.rec = undefined;
        continue;
      }
      const noted: Noted = { id, epoch };
      recent.set(id, noted);
      if (this.order.length >= 2 * RECENT_MAX) this.compactOrder();
      this.order.push(noted);
    }
    return true;
  }

  /** Forgets the oldest live noted task. */
  private evictOldest(): void {
    const order = this.order;
    while (this.orderHead < order.length) {
      const noted = order[this.orderHead]!;
      order[this.orderHead++] = undefined;
      if (this.recent.get(noted.id) === noted) {
        this.recent.delete(noted.id);
        return;
      }
    }
  }

  /** Drops the passed and forgotten entries of `order` (it then holds at most `RECENT_MAX`). */
  private compactOrder(): void {
    const order = this.order;
    let w = 0;
    for (let r = this.orderHead; r < order.length; r++) {
      const noted = order[r]!;
      if (this.recent.get(noted.id) === noted) order[w++] = noted;
    }
    order.length = w;
    this.orderHead = 0;
  }

  /**
   * Takes a noted task off the list. Its entry also leaves `order` when it is the newest or the
   * oldest there (a task awaited right after its enqueue, or in enqueue order), so that a process
   * that awaits what it enqueues holds no entry for tasks it is done with (they would be kept up to
   * `2 × RECENT_MAX` entries, surviving young collections into the old generation).
   */
  private unnote(noted: Noted): void {
    this.recent.delete(noted.id);
    noted.rec = undefined;
    const order = this.order;
    const last = order.length - 1;
    if (last < this.orderHead) return;
    if (order[last] === noted) order.pop();
    else if (order[this.orderHead] === noted) order[this.orderHead++] = undefined;
    else return;
    // passed-over entries (forgotten since) at either end go too
    while (order.length > this.orderHead && this.recent.get(order[order.length - 1]!.id) !== order[order.length - 1]) order.pop();
    while (this.orderHead < order.length && this.recent.get(order[this.orderHead]!.id) !== order[this.orderHead]) order[this.orderHead++] = undefined;
    if (this.orderHead === order.length) {
      order.length = 0;
      this.orderHead = 0;
    }
  }

  /** Forgets noted tasks (the enqueue failed, the id existed already, the task was removed). */
  forget(ids: string[]): void {
    for (const id of ids) {
      const noted = this.recent.get(id);
      if (noted !== undefined) this.unnote(noted);
    }
  }

  /** Forgets every noted task (the listening connection broke, or every record was removed). */
  forgetAll(): void {
    this.recent.clear();
    this.order = [];
    this.orderHead = 0;
  }

  waitFinal(id: string, timeoutMs?: number): Promise<TaskRecord | undefined> {
    if (this.closed) return Promise.reject(new ClosedError('result()'));
    // a task enqueued here while listening, without a break since: its end was or will be heard
    const noted = this.recent.get(id);
    let sure = false;
    if (noted !== undefined) {
      const heard = noted.rec;
      this.unnote(noted);
      if (heard !== undefined) return Promise.resolve(heard);
      sure = noted.epoch === this.listening.epoch() && this.listening.live();
    }
    return new Promise((resolve, reject) => {
      const w = this.waiters.add(id, timeoutMs, resolve, reject);
      this.armRecheck();
      if (sure) return;
      this.listening
        .ready('result()')
        .then(() => this.storage.get(id))
        .then(
          (rec) => {
            if (rec === undefined || isFinal(rec.status)) this.waiters.settle(id, rec);
          },
          (err: Error) => {
            if (this.waiters.drop(id, w)) reject(err);
          },
        );
    });
  }

  watchItems(id: string, from: number, onItem: StreamItemListener, onEnd: StreamEndListener): () => void {
    if (this.closed) {
      queueMicrotask(() => onEnd(undefined, new ClosedError('stream()')));
      return () => undefined;
    }
    const w = this.watchers.add(id, from, onItem, onEnd);
    this.armRecheck();
    this.listening.ready('stream()').then(
      () => this.watchers.catchUp(w, true),
      (err: Error) => this.watchers.end(w, undefined, err),
    );
    return () => {
      w.ended = true;
      this.watchers.drop(w);
    };
  }

  /** A live stream item (`item` undefined with `inline` false: stored, too large for the message). */
  onItem(id: string, index: number, item: unknown, inline = true): void {
    if (inline) this.watchers.onItem(id, index, item);
    else this.watchers.onGap(id, index);
  }

  /** A task's new record (an end, or a retry): settles what waits for it, fires its event here. */
  onRecord(rec: TaskRecord): void {
    // (each looked up only when it holds anything: a worker's own ends come here one by one)
    if (isFinal(rec.status)) {
      if (this.recent.size !== 0) {
        const noted = this.recent.get(rec.id);
        if (noted !== undefined) noted.rec = rec;
      }
      if (this.waiters.size !== 0) this.waiters.settle(rec.id, rec);
      if (this.watchers.size !== 0) this.watchers.onFinal(rec);
    }
    const event = EVENT_OF[rec.status];
    if (event !== undefined && this.ctx.listens(event)) this.ctx.emit(event as 'task:success', { record: rec });
  }

  /** True while something here waits for ends: `result()` calls, stream readers, end-event listeners. */
  wantsRecords(): boolean {
    return this.waiters.size > 0 || this.watchers.size > 0 || END_EVENTS.some((e) => this.ctx.listens(e));
  }

  /** An end announced by id only (cancel, stall, a record too large for a message): read it. */
  onEndedId(id: string): void {
    if (!this.waiters.has(id) && !this.watchers.has(id)) {
      // enqueued here and awaited by nobody yet: a later result() reads the stored end
      const noted = this.recent.get(id);
      if (noted !== undefined) this.unnote(noted);
      if (!END_EVENTS.some((e) => this.ctx.listens(e))) return;
    }
    this.storage.get(id).then(
      (rec) => {
        if (rec) this.onRecord(rec);
        else this.waiters.settle(id, undefined);
      },
      (err) => this.ctx.logger.warn('Reading a finished task failed', { id, error: err }),
    );
  }

  /** Re-reads every awaited record and stream (after a reconnect, and now and then). */
  recheckAll(): void {
    if (this.closed) return;
    for (const id of this.waiters.ids()) {
      this.storage.get(id).then(
        (rec) => {
          if (rec === undefined || isFinal(rec.status)) this.waiters.settle(id, rec);
        },
        () => undefined,
      );
    }
    this.watchers.recheck();
  }

  /** Ends every wait and stream with `QTASKS_ERR_CLOSED`. */
  close(): void {
    this.closed = true;
    if (this.recheckTimer) clearInterval(this.recheckTimer);
    this.recheckTimer = undefined;
    this.waiters.rejectAll(new ClosedError('Waiting for a task'));
    this.watchers.endAll(() => new ClosedError('stream()'));
  }

  private armRecheck(): void {
    if (this.recheckTimer || this.closed) return;
    this.recheckTimer = setInterval(() => {
      if (this.waiters.size === 0 && this.watchers.size === 0) {
        clearInterval(this.recheckTimer);
        this.recheckTimer = undefined;
        return;
      }
      this.recheckAll();
    }, RECHECK_MS);
    this.recheckTimer.unref();
  }
}
