/**
 * What one Redis worker holds: the tasks it claimed (with their stored data, for the end it will
 * publish), the prefetched ones waiting for a free slot, those that streamed items, and cancel
 * requests that arrived before their claim. Claims are decoded here: a record that cannot be
 * decoded is handed to `onBad` instead of the buffer, so it never runs and its batch goes on.
 */
import { ErrorCodes } from '../../errors';
import type { TaskRecord } from '../../task/task-record';
import { claimedRecord } from './record-codec';

/** A task the worker claimed, with its fixed fields' JSON as stored ('' when it did not decode). */
interface Held {
  rec: TaskRecord;
  d: string;
}

/** Where a claimed task goes that will not wait in the buffer. */
export interface ClaimSinks {
  /** Its record cannot be decoded: it ends `QTASKS_ERR_BAD_RECORD` (`reason` says why). */
  onBad(rec: TaskRecord, reason: string): void;
  /** The worker stops: it goes back to the queue. */
  onHandback(rec: TaskRecord): void;
  /** A cancel was asked before the claim arrived: it ends `cancel`. */
  onCancelled(rec: TaskRecord, reason: string | undefined): void;
}

/** The tasks one worker holds. */
export class ClaimedTasks {
  private readonly held = new Map<string, Held>();
  /** Prefetched tasks waiting for a free consumer slot. */
  buffer: TaskRecord[] = [];
  private readonly withItems = new Set<string>();
  /** Cancel requests seen before the claim that they are about arrived. */
  private readonly earlyCancels = new Map<string, string | undefined>();

  constructor(
    private readonly workerId: string,
    private readonly warn: (message: string, fields: Record<string, unknown>) => void,
  ) {}

  /** How many tasks it holds (running, buffered or being recorded). */
  get size(): number {
    return this.held.size;
  }

  /** The ids of every task it holds. */
  ids(): IterableIterator<string> {
    return this.held.keys();
  }

  /** The record of a held task. */
  record(id: string): TaskRecord | undefined {
    return this.held.get(id)?.rec;
  }

  /** The stored data of a held task ('' when it did not decode, undefined when not held). */
  data(id: string): string | undefined {
    return this.held.get(id)?.d;
  }

  /** True when the task streamed items (they then expire with it). */
  hasItems(id: string): boolean {
    // most workers never stream an item: no hashing of the id then
    return this.withItems.size !== 0 && this.withItems.has(id);
  }

  itemPushed(id: string): void {
    this.withItems.add(id);
  }

  /** The task's end is recorded: it is not held any more. */
  release(id: string): void {
    this.held.delete(id);
    if (this.withItems.size !== 0) this.withItems.delete(id);
  }

  /** Keeps a cancel request whose task is not held yet (for 5 s). */
  cancelEarly(id: string, reason: string | undefined): void {
    this.earlyCancels.set(id, reason);
    setTimeout(() => this.earlyCancels.delete(id), 5_000).unref();
  }

  /** Takes a buffered task out of the buffer; false when it is not buffered (it runs). */
  unbuffer(rec: TaskRecord): boolean {
    const at = this.buffer.indexOf(rec);
    if (at < 0) return false;
    this.buffer.splice(at, 1);
    return true;
  }

  /** Empties the buffer, returning what it held. */
  drainBuffer(): TaskRecord[] {
    const back = this.buffer;
    this.buffer = [];
    return back;
  }

  /**
   * Tasks claimed by a script call (flat: id, data, attempt per task): each is held, then buffered
   * or handed to the sink that fits.
   */
  take(claimed: string[], now: number, stopped: boolean, sinks: ClaimSinks): void {
    for (let i = 0; i < claimed.length; i += 3) {
      const id = claimed[i];
      const d = claimed[i + 1];
      const { rec, bad } = claimedRecord(id, d, Number(claimed[i + 2]), now, this.workerId);
      // a record that cannot be decoded never runs: it ends at once, its batch goes on
      this.held.set(id, { rec, d: bad === undefined ? d : '' });
      if (bad !== undefined) {
        this.warn('A claimed task record cannot be decoded: the task ends error', { id, code: ErrorCodes.BAD_RECORD, reason: bad });
        sinks.onBad(rec, bad);
      } else if (stopped) {
        sinks.onHandback(rec);
      } else if (this.earlyCancels.has(rec.id)) {
        const reason = this.earlyCancels.get(rec.id);
        this.earlyCancels.delete(rec.id);
        sinks.onCancelled(rec, reason);
      } else {
        this.buffer.push(rec);
      }
    }
  }

  /**
   * A task an enqueue handed over (claimed for this worker, into its inbox) as the blocking pop
   * took it: `count\ndata\nid`, where count is how many that enqueue handed over. Returns true when
   * more wait in the inbox (taken by the next call) or the entry is not one, false when it was the
   * only one.
   */
  takeHanded(entry: string, now: number, stopped: boolean, sinks: ClaimSinks): boolean {
    const a = entry.indexOf('\n');
    const b = entry.indexOf('\n', a + 1);
    if (a < 0 || b < 0) return true;
    this.take([entry.slice(b + 1), entry.slice(a + 1, b), '1'], now, stopped, sinks);
    return entry.slice(0, a) !== '1';
  }
}
