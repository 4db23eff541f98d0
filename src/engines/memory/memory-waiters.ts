/**
 * The waiting side of the in-memory engine: `result()` waiters and `stream()` watchers kept on each
 * record, called when the task ends, is removed, or the engine closes.
 */
import type { StreamEndListener, StreamItemListener } from '../../engine/broker';
import { ClosedError, ResultTimeoutError } from '../../errors';
import { dropsAtEnd } from '../../task/retention';
import { isFinal, TaskRecord } from '../../task/task-record';
import { MemRecord, publicRecord, soundRecord } from './mem-record';

/** Where records are found by id. */
interface RecordLookup {
  get(id: string): MemRecord | undefined;
}

/**
 * The record `enqueue` returned when it is still the stored one of `id`, or when it was dropped
 * after the task ended, by the task itself (`removeOnComplete` / `removeOnFail` true: as on the
 * engines that announce such an end with its record) or by the storage's `maxFinished` cap (a
 * batch of more tasks than the cap, all ended before their `result()` calls): the handle that
 * enqueued it still settles. Else undefined (removed, expired, or never this broker's).
 */
function hinted(id: string, hint: TaskRecord | undefined): MemRecord | undefined {
  if (!(hint instanceof MemRecord) || hint.id !== id) return undefined;
  if (hint.live) return hint;
  return isFinal(hint.status) && (hint.evicted || dropsAtEnd(hint, hint.status)) ? hint : undefined;
}

/** The final record of `id` (checked, see `soundRecord`) when the task has ended, else undefined. */
export function finalRecord(records: RecordLookup, id: string, hint?: TaskRecord): TaskRecord | undefined {
  const rec = hinted(id, hint) ?? records.get(id);
  return rec !== undefined && isFinal(rec.status) ? soundRecord(rec) : undefined;
}

/**
 * Calls `done` once with the final record (at once when it has ended), undefined for an unknown
 * id, or a `ResultTimeoutError` after `timeoutMs`. `hint` is the record `enqueue` returned.
 */
export function waitForEnd(
  records: RecordLookup,
  closed: boolean,
  id: string,
  timeoutMs: number | undefined,
  done: (record: TaskRecord | undefined, error?: Error) => void,
  hint?: TaskRecord,
): void {
  // the record enqueue returned saves a map lookup while it is still the stored one
  const rec = hinted(id, hint) ?? records.get(id);
  if (rec === undefined) return done(rec);
  if (isFinal(rec.status)) return done(soundRecord(rec));
  if (closed) return done(undefined, new ClosedError('result()'));
  if (timeoutMs === undefined) return rec.addWaiter(done);
  const waiter = (r: MemRecord | undefined) => {
    clearTimeout(timer);
    done(r);
  };
  const timer = setTimeout(() => {
    rec.removeWaiter(waiter);
    done(undefined, new ResultTimeoutError(id, timeoutMs));
  }, timeoutMs);
  rec.addWaiter(waiter);
}

/** Streams the items of `id` from `from` (stored first, then live) and its end; returns an unsubscribe function. */
export function watchRecordItems(
  records: RecordLookup,
  isClosed: () => boolean,
  id: string,
  from: number,
  onItem: StreamItemListener,
  onEnd: StreamEndListener,
): () => void {
  const rec = records.get(id);
  let active = true;
  const watcher = { onItem, onEnd };
  queueMicrotask(() => {
    if (!active) return;
    // unknown, or removed before this microtask (a finished record dropped meanwhile still streams)
    if (rec === undefined || (records.get(id) !== rec && !isFinal(rec.status))) return onEnd(undefined);
    const items = rec.items ?? [];
    for (let i = from; i < items.length; i++) onItem(items[i], i);
    if (isFinal(rec.status)) return onEnd(publicRecord(rec));
    if (isClosed()) return onEnd(undefined, new ClosedError('stream()'));
    (rec.watchers ??= []).push(watcher);
  });
  return () => {
    active = false;
    const at = rec?.watchers?.indexOf(watcher) ?? -1;
    if (at >= 0) rec!.watchers!.splice(at, 1);
  };
}

/** The task ended: every waiter and watcher gets its final record. */
export function endWatchers(rec: MemRecord): void {
  if (rec.waiter !== undefined || rec.hasWaiters) rec.releaseWaiters();
  const watchers = rec.watchers;
  if (watchers !== undefined) {
    rec.watchers = undefined;
    const copy = publicRecord(rec);
    for (const w of watchers) w.onEnd(copy);
  }
}

/** The engine closed before the task ended: watchers get `QTASKS_ERR_CLOSED`, waiters a record that is not final. */
export function closeWatchers(rec: MemRecord): void {
  const err = new ClosedError('Waiting for a task');
  const watchers = rec.watchers;
  rec.watchers = undefined;
  if (watchers) for (const w of watchers) w.onEnd(undefined, err);
  // a waiter handed a record that is not final reports the app as closed
  rec.releaseWaiters();
}
