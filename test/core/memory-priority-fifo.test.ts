/**
 * The memory engine's ready queue: lower priority first, first in first out among equals, a
 * handed-back task first of its priority, through many priorities coming and going.
 */
import { PriorityFifo } from '../../src/engines/memory/priority-fifo';

/** What the queue must give: a stable sort by priority, fronts first. */
class Model {
  private items: { v: number; p: number; seq: number }[] = [];
  private seq = 0;
  private front = 0;
  push(v: number, p: number) {
    this.items.push({ v, p, seq: ++this.seq });
  }
  pushFront(v: number, p: number) {
    this.items.push({ v, p, seq: --this.front });
  }
  shift(): number | undefined {
    if (this.items.length === 0) return undefined;
    let best = 0;
    for (let i = 1; i < this.items.length; i++) {
      const a = this.items[i];
      const b = this.items[best];
      if (a.p < b.p || (a.p === b.p && a.seq < b.seq)) best = i;
    }
    return this.items.splice(best, 1)[0].v;
  }
  get size() {
    return this.items.length;
  }
}

describe('memory ready queue', () => {
  it('gives items by priority, in order among equals, fronts first, as a model does', () => {
    // a fixed pseudo-random sequence: repeatable
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const q = new PriorityFifo<number>();
    const m = new Model();
    const got: (number | undefined)[] = [];
    const want: (number | undefined)[] = [];
    for (let i = 0; i < 20_000; i++) {
      const op = rand(10);
      // mostly one priority, sometimes one of 100 (beyond the 64 kept before pruning)
      const p = rand(4) === 0 ? rand(100) - 50 : 0;
      if (op < 5) {
        q.push(i, p);
        m.push(i, p);
      } else if (op === 5) {
        q.pushFront(i, p);
        m.pushFront(i, p);
      } else {
        got.push(q.shift());
        want.push(m.shift());
      }
      expect(q.size).toBe(m.size);
    }
    while (m.size > 0) {
      got.push(q.shift());
      want.push(m.shift());
    }
    expect(got).toEqual(want);
    expect(q.shift()).toBeUndefined();
    q.push(1, 3);
    q.clear();
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
    q.push(2, 3);
    expect(q.shift()).toBe(2);
  });
});
