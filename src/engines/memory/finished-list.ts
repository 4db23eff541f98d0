/**
 * The finished records of one final status in finishing order, oldest first, for expiry,
 * retention and `clean`. An entry goes stale when its record is dropped or leaves that status
 * (a manager retry); stale entries are skipped as the head reaches them.
 */
import type { TaskStatus } from '../../task/task-record';
import type { MemRecord } from './mem-record';
import { emptySlots } from './record-table';

/** Entries a list holds before it first grows (a power of two, as every capacity). */
const MIN_CAPACITY = 16;

/**
 * A queue of finished records in a ring: a push and a shift write one slot each, and the ring is
 * copied only when it doubles or halves (no array cut and copied as the head moves on, and finish
 * times kept unboxed).
 */
export class FinishedList {
  private recs: (MemRecord | undefined)[] = emptySlots(MIN_CAPACITY);
  /** When each entry's record finished (an entry whose record finished again since is stale). */
  private at = new Float64Array(MIN_CAPACITY);
  /** Slot of the oldest entry. */
  private head = 0;
  private count = 0;

  constructor(readonly status: TaskStatus) {}

  /** Entries, stale ones included. */
  get size(): number {
    return this.count;
  }

  push(rec: MemRecord, finishedAt: number): void {
    if (this.count === this.recs.length) this.resize(this.recs.length * 2);
    const i = (this.head + this.count) & (this.recs.length - 1);
    this.recs[i] = rec;
    this.at[i] = finishedAt;
    this.count++;
  }

  /** The oldest live entry (stale ones before it are dropped), undefined when empty. */
  peek(): MemRecord | undefined {
    while (this.count > 0) {
      const rec = this.recs[this.head]!;
      if (rec.live && rec.status === this.status && rec.finishedAt === this.at[this.head]) return rec;
      this.advance();
    }
    return undefined;
  }

  /** Removes the oldest entry (after {@link peek}). */
  shift(): void {
    if (this.count > 0) this.advance();
  }

  private advance(): void {
    this.recs[this.head] = undefined;
    this.head = (this.head + 1) & (this.recs.length - 1);
    this.count--;
    // a list that emptied gives its memory back
    const capacity = this.recs.length;
    if (capacity > 1024 && this.count < capacity / 4) this.resize(capacity / 2);
  }

  /** Moves the entries, oldest first, into a ring of `capacity` slots. */
  private resize(capacity: number): void {
    const recs = emptySlots(capacity);
    const at = new Float64Array(capacity);
    const mask = this.recs.length - 1;
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & mask;
      recs[k] = this.recs[i];
      at[k] = this.at[i];
    }
    this.recs = recs;
    this.at = at;
    this.head = 0;
  }

  clear(): void {
    this.recs = emptySlots(MIN_CAPACITY);
    this.at = new Float64Array(MIN_CAPACITY);
    this.head = 0;
    this.count = 0;
  }
}
