/**
 * The records of the in-memory engine by id. Ids the engine makes (`m` + a base-36 counter) are
 * numbers in disguise: those records sit in a ring of slots by their number, so storing one is an
 * append and dropping one clears a slot (no hashing of a new string, no hash table growing by a third of a
 * record's size). Any other id, and a record left alone far behind the others, is kept in a Map.
 */
import type { MemRecord } from './mem-record';

/** Records past the first filled slot beyond which a mostly empty table moves the oldest half to the Map. */
const SPARSE_AT = 4096;
/** Numbers an id may skip and still take a slot. */
const GAP = 1024;
/** Slots of an empty table (a power of two, as every size of the ring). */
const MIN_SLOTS = 16;

/** Map-like table of records (`get`, `set`, `delete`, `values`, `size`, `clear`). */
export class RecordTable {
  /**
   * A ring of slots: the record whose id is `m` + base 36 of `base + k` sits at
   * `slots[(start + k) & (slots.length - 1)]` for `k < span`; undefined where dropped, and every
   * slot outside the span is undefined. Storing the next number writes one slot and dropping the
   * oldest moves the start on: the ring is copied only when it doubles or halves.
   */
  private slots: (MemRecord | undefined)[] = emptySlots(MIN_SLOTS);
  private start = 0;
  /** Numbers the ring covers, from `base`; its first slot is filled while it covers any. */
  private span = 0;
  /** The number of the first slot. */
  private base = 1;
  /** Filled slots. */
  private inSlots = 0;
  private readonly others = new Map<string, MemRecord>();

  /** Records stored. */
  get size(): number {
    return this.inSlots + this.others.size;
  }

  get(id: string): MemRecord | undefined {
    const k = idNumber(id) - this.base;
    if (k >= 0 && k < this.span) {
      const rec = this.slots[(this.start + k) & (this.slots.length - 1)];
      if (rec !== undefined && rec.key === id) return rec;
    }
    return this.others.get(id);
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /**
   * Stores `rec` under `id` (a new id: the caller checked that none is stored); `n` is
   * `idNumber(id)` when the caller knows it (the broker that just made the id).
   */
  set(id: string, rec: MemRecord, n: number = idNumber(id)): void {
    if (n >= 1 && this.span === 0) {
      // an empty ring starts at any number
      this.base = n;
      this.start = 0;
    }
    const k = n - this.base;
    if (n >= 1 && k >= this.span && k < this.span + GAP) {
      // the next number, or one after a few that were never stored (an enqueue that failed)
      if (k >= this.slots.length) this.resize(ringSize(k + 1));
      this.slots[(this.start + k) & (this.slots.length - 1)] = rec;
      this.span = k + 1;
      this.inSlots++;
      return;
    }
    if (k >= 0 && k < this.span) {
      const at = (this.start + k) & (this.slots.length - 1);
      if (this.slots[at] === undefined && !this.others.has(id)) {
        this.slots[at] = rec;
        this.inSlots++;
        return;
      }
    }
    this.others.set(id, rec);
  }

  /**
   * Drops `rec` (stored under `rec.key`). The oldest record, which is what the finished-record cap
   * and expiry drop, is found at the start without reading its id.
   */
  remove(rec: MemRecord): boolean {
    if (this.span > 0 && this.slots[this.start] === rec) {
      this.slots[this.start] = undefined;
      this.inSlots--;
      this.advance();
      return true;
    }
    return this.delete(rec.key);
  }

  delete(id: string): boolean {
    const k = idNumber(id) - this.base;
    if (k >= 0 && k < this.span) {
      const at = (this.start + k) & (this.slots.length - 1);
      const rec = this.slots[at];
      if (rec !== undefined && rec.key === id) {
        this.slots[at] = undefined;
        this.inSlots--;
        if (k === 0 || this.sparse()) this.advance();
        return true;
      }
    }
    return this.others.delete(id);
  }

  *values(): IterableIterator<MemRecord> {
    yield* this.others.values();
    // a snapshot of the ring's order (the caller may drop records while iterating)
    const slots = this.slots;
    const start = this.start;
    const mask = slots.length - 1;
    const span = this.span;
    for (let k = 0; k < span; k++) {
      const rec = slots[(start + k) & mask];
      if (rec !== undefined) yield rec;
    }
  }

  clear(): void {
    this.slots = emptySlots(MIN_SLOTS);
    this.start = 0;
    this.span = 0;
    this.base = 1;
    this.inSlots = 0;
    this.others.clear();
  }

  /** True when most slots of the span are empty. */
  private sparse(): boolean {
    return this.span > SPARSE_AT && this.inSlots * 4 < this.span;
  }

  /** Moves the start past empty slots; moves records left far behind to the Map; shrinks a mostly empty ring. */
  private advance(): void {
    this.skipEmpty();
    if (this.sparse()) {
      // mostly empty behind a few long-lived records (delayed, say): those go to the Map
      const mid = this.span >> 1;
      const mask = this.slots.length - 1;
      for (let k = 0; k < mid; k++) {
        const at = (this.start + k) & mask;
        const rec = this.slots[at];
        if (rec === undefined) continue;
        this.others.set(rec.key, rec);
        this.slots[at] = undefined;
        this.inSlots--;
      }
      this.start = (this.start + mid) & mask;
      this.base += mid;
      this.span -= mid;
      this.skipEmpty();
    }
    const size = this.slots.length;
    if (size > 1024 && this.span * 4 < size) this.resize(Math.max(MIN_SLOTS, ringSize(this.span * 2)));
  }

  private skipEmpty(): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    while (this.span > 0 && slots[this.start] === undefined) {
      this.start = (this.start + 1) & mask;
      this.base++;
      this.span--;
    }
  }

  /** Copies the span, in order, into a ring of `size` slots. */
  private resize(size: number): void {
    const next = emptySlots(size);
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let k = 0; k < this.span; k++) next[k] = slots[(this.start + k) & mask];
    this.slots = next;
    this.start = 0;
  }
}

/** The smallest power of two (at least {@link MIN_SLOTS}) holding `n` slots. */
function ringSize(n: number): number {
  let size = MIN_SLOTS;
  while (size < n) size *= 2;
  return size;
}

/** An array of `n` empty slots, packed (not holey). */
export function emptySlots(n: number): (MemRecord | undefined)[] {
  return new Array<MemRecord | undefined>(n).fill(undefined);
}

/**
 * The number of an id of the form `m` + base 36, or `m<n>.` + base 36 (a further queue's broker),
 * lower case, no leading zero; -1 for any other id. Up to 10 base-36 digits (2^53 needs 11).
 */
export function idNumber(id: string): number {
  const n = id.length;
  if (n < 2 || id.charCodeAt(0) !== 109 /* m */) return -1;
  let from = 1;
  const dot = id.indexOf('.', 1);
  if (dot === 1) return -1;
  if (dot > 0) {
    for (let i = 1; i < dot; i++) {
      const c = id.charCodeAt(i);
      if (c < 48 || c > 57) return -1;
    }
    from = dot + 1;
  }
  if (n - from < 1 || n - from > 10 || id.charCodeAt(from) === 48 /* 0 */) return -1;
  let v = 0;
  for (let i = from; i < n; i++) {
    const c = id.charCodeAt(i);
    if (c >= 48 && c <= 57) v = v * 36 + (c - 48);
    else if (c >= 97 && c <= 122) v = v * 36 + (c - 87);
    else return -1;
  }
  return v;
}
