/**
 * Ready queue: lower priority first, FIFO among equals. One ring buffer per distinct priority, so
 * the common case (one or a few priorities) pushes and pops in O(1) without comparisons.
 */

class Ring<T> {
  private buf: (T | undefined)[] = new Array(16);
  private head = 0;
  size = 0;

  push(value: T): void {
    if (this.size === this.buf.length) this.grow();
    this.buf[(this.head + this.size) & (this.buf.length - 1)] = value;
    this.size++;
  }

  unshift(value: T): void {
    if (this.size === this.buf.length) this.grow();
    this.head = (this.head - 1) & (this.buf.length - 1);
    this.buf[this.head] = value;
    this.size++;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const value = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & (this.buf.length - 1);
    this.size--;
    return value;
  }

  clear(): void {
    this.buf = new Array(16);
    this.head = 0;
    this.size = 0;
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.buf.length * 2);
    for (let i = 0; i < this.size; i++) next[i] = this.buf[(this.head + i) & (this.buf.length - 1)];
    this.buf = next;
    this.head = 0;
  }
}

/** Priority queue of items with a numeric priority; stable among equal priorities. */
export class PriorityFifo<T> {
  private readonly buckets = new Map<number, Ring<T>>();
  /** Distinct priorities seen, ascending, and their rings at the same index. */
  private prios: number[] = [];
  private rings: Ring<T>[] = [];
  /** The ring pushed to last and its priority (most pushes repeat it: no Map lookup then). */
  private lastPrio = NaN;
  private lastRing: Ring<T> | undefined = undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(value: T, priority: number): void {
    (priority === this.lastPrio ? this.lastRing! : this.bucket(priority)).push(value);
    this.count++;
  }

  /** Puts `value` first among its priority (a task handed back goes before newer ones). */
  pushFront(value: T, priority: number): void {
    this.bucket(priority).unshift(value);
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const rings = this.rings;
    for (let i = 0; i < rings.length; i++) {
      const ring = rings[i];
      if (ring.size > 0) {
        this.count--;
        return ring.shift();
      }
    }
    return undefined;
  }

  clear(): void {
    this.buckets.clear();
    this.prios = [];
    this.rings = [];
    this.lastPrio = NaN;
    this.lastRing = undefined;
    this.count = 0;
  }

  private bucket(priority: number): Ring<T> {
    let ring = this.buckets.get(priority);
    if (ring === undefined) {
      if (this.prios.length > 64) this.prune();
      ring = new Ring<T>();
      this.buckets.set(priority, ring);
      let i = this.prios.length;
      while (i > 0 && this.prios[i - 1] > priority) i--;
      this.prios.splice(i, 0, priority);
      this.rings.splice(i, 0, ring);
    }
    this.lastPrio = priority;
    this.lastRing = ring;
    return ring;
  }

  private prune(): void {
    const prios: number[] = [];
    const rings: Ring<T>[] = [];
    for (let i = 0; i < this.prios.length; i++) {
      if (this.rings[i].size > 0) {
        prios.push(this.prios[i]);
        rings.push(this.rings[i]);
      } else {
        this.buckets.delete(this.prios[i]);
      }
    }
    this.prios = prios;
    this.rings = rings;
    // the ring pushed to last may be gone
    this.lastPrio = NaN;
    this.lastRing = undefined;
  }
}
