/**
 * The finished records of one final status in finishing order, oldest first, for expiry,
 * retention and `clean`. An entry goes stale when its record is dropped or leaves that status
 * (a manager retry); stale entries are skipped as the head reaches them.
 */
import type { TaskStatus } from '../../task/task-record';
import type { MemRecord } from './mem-record';

/** A queue of finished records with a moving head (no shifting of the array). */
export class FinishedList {
  private recs: (MemRecord | undefined)[] = [];
  /** When each entry's record finished (an entry whose record finished again since is stale). */
  private at: number[] = [];
  private head = 0;

  constructor(readonly status: TaskStatus) {}

  /** Entries, stale ones included. */
  get size(): number {
    return this.recs.length - this.head;
  }

  push(rec: MemRecord, finishedAt: number): void {
    this.recs.push(rec);
    this.at.push(finishedAt);
  }

  /** The oldest live entry (stale ones before it are dropped), undefined when empty. */
  peek(): MemRecord | undefined {
    while (this.head < this.recs.length) {
      const rec = this.recs[this.head]!;
      if (rec.live && rec.status === this.status && rec.finishedAt === this.at[this.head]) return rec;
      this.advance();
    }
    return undefined;
  }

  /** Removes the oldest entry (after {@link peek}). */
  shift(): void {
    if (this.head < this.recs.length) this.advance();
  }

  private advance(): void {
    this.recs[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.recs.length) {
      this.recs = this.recs.slice(this.head);
      this.at = this.at.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.recs = [];
    this.at = [];
    this.head = 0;
  }
}
