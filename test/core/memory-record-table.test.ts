/**
 * The memory engine's record table: records found by id whatever the id, after drops, gaps and a
 * long-lived record left far behind the others.
 */
import { idNumber, RecordTable } from '../../src/engines/memory/record-table';
import type { MemRecord } from '../../src/engines/memory/mem-record';
import { MemoryBroker } from '../../src/engines/memory/memory-broker';

const rec = (key: string): MemRecord => ({ key, id: key }) as unknown as MemRecord;
const mid = (n: number): string => 'm' + n.toString(36);

describe('memory record table', () => {
  it('reads the number of an engine-made id and nothing else', () => {
    expect(idNumber('m1')).toBe(1);
    expect(idNumber('mz')).toBe(35);
    expect(idNumber('m10')).toBe(36);
    expect(idNumber('m2.a')).toBe(10);
    for (const id of ['m', 'm0', 'm01', 'mA', 'x1', 'm-1', 'wf:m1', 'm1 ', 'm' + 'z'.repeat(11), 'm.1', 'm2.', 'mx.1', 'm2.01', 'm2.3.4']) expect(idNumber(id)).toBe(-1);
  });

  it('finds every record by id: made ids, chosen ids, ids of the made form chosen out of turn', () => {
    const t = new RecordTable();
    const ids = [mid(1), mid(2), 'job-a', mid(4), mid(3), 'm01', mid(5000), mid(6), 'm1.6', 'm1.7'];
    for (const id of ids) t.set(id, rec(id));
    expect(t.size).toBe(ids.length);
    for (const id of ids) expect(t.get(id)?.key).toBe(id);
    expect(t.get(mid(7))).toBeUndefined();
    expect(t.get('m1 ')).toBeUndefined();
    expect(new Set([...t.values()].map((r) => r.key))).toEqual(new Set(ids));
    expect(t.delete('m01')).toBe(true);
    expect(t.get('m01')).toBeUndefined();
    expect(t.get(mid(1))?.key).toBe(mid(1));
    expect(t.delete(mid(2))).toBe(true);
    expect(t.delete(mid(2))).toBe(false);
    expect(t.size).toBe(ids.length - 2);
  });

  it('keeps a long-lived record findable while many after it come and go, and stays small', () => {
    const t = new RecordTable();
    t.set(mid(1), rec(mid(1)));
    for (let n = 2; n < 50_000; n++) {
      t.set(mid(n), rec(mid(n)));
      if (n > 11) t.delete(mid(n - 10));
    }
    expect(t.get(mid(1))?.key).toBe(mid(1));
    for (let n = 49_990; n < 50_000; n++) expect(t.get(mid(n))?.key).toBe(mid(n));
    expect(t.size).toBe(11);
    expect([...t.values()].length).toBe(11);
    // the slots behind the live records were given up
    expect((t as unknown as { slots: unknown[] }).slots.length).toBeLessThan(20_000);
    t.clear();
    expect(t.size).toBe(0);
    expect(t.get(mid(1))).toBeUndefined();
  });

  it('the broker makes ids m + base 36 of its counter, across digit boundaries, and its siblings m<n>. + theirs', () => {
    const b = new MemoryBroker();
    const wrong: string[] = [];
    for (let n = 1; n <= 50_000; n++) if (b.newId() !== mid(n)) wrong.push(mid(n));
    const s = b.sibling();
    for (let n = 1; n <= 1_300; n++) if (s.newId() !== 'm1.' + n.toString(36)) wrong.push('m1.' + n.toString(36));
    for (let n = 1; n <= 100; n++) if (idNumber(b.sibling().newId()) !== 1) wrong.push(`sibling ${n}`);
    expect(wrong).toEqual([]);
  });

  it('removes a record by itself: the oldest at the head, any other by its id', () => {
    const t = new RecordTable();
    const recs = [mid(1), mid(2), mid(3), 'job-a', mid(5)].map(rec);
    for (const r of recs) t.set(r.key, r);
    expect(t.remove(recs[0])).toBe(true);
    expect(t.get(mid(1))).toBeUndefined();
    expect(t.remove(recs[2])).toBe(true);
    expect(t.remove(recs[3])).toBe(true);
    expect(t.remove(recs[3])).toBe(false);
    expect(t.remove(recs[1])).toBe(true);
    expect(t.get(mid(2))).toBeUndefined();
    expect(t.get(mid(5))?.key).toBe(mid(5));
    expect(t.size).toBe(1);
    expect(t.remove(recs[4])).toBe(true);
    expect(t.size).toBe(0);
  });

  it('finds every record while the oldest go and new ones come, across many wraps, growths and shrinks', () => {
    const t = new RecordTable();
    const live = new Map<string, MemRecord>();
    let next = 1;
    let oldest = 1;
    const add = () => {
      const id = mid(next++);
      const r = rec(id);
      t.set(id, r);
      live.set(id, r);
    };
    // grow to 3,000, slide at 3,000 for a while, shrink to 10, grow again
    for (const [target, steps] of [[3_000, 3_000], [3_000, 20_000], [10, 2_990], [2_000, 1_990]] as const) {
      for (let i = 0; i < steps; i++) {
        if (live.size < target) add();
        else if (live.size > target) {
          const r = live.get(mid(oldest))!;
          expect(t.remove(r)).toBe(true);
          live.delete(mid(oldest++));
        } else {
          add();
          const r = live.get(mid(oldest))!;
          expect(t.remove(r)).toBe(true);
          live.delete(mid(oldest++));
        }
      }
      expect(t.size).toBe(live.size);
      expect([...t.values()].map((r) => r.key)).toEqual([...live.keys()]);
      for (const id of live.keys()) expect(t.get(id)?.key).toBe(id);
      expect(t.get(mid(oldest - 1))).toBeUndefined();
      expect(t.get(mid(next))).toBeUndefined();
    }
    // a record dropped out of turn, and its slot taken again by the same id
    const mid1 = mid(oldest + 5);
    expect(t.delete(mid1)).toBe(true);
    expect(t.get(mid1)).toBeUndefined();
    t.set(mid1, rec(mid1));
    expect(t.get(mid1)?.key).toBe(mid1);
    expect((t as unknown as { slots: unknown[] }).slots.length).toBeLessThanOrEqual(4_096);
  });

  it('starts an emptied table at the next number, and keeps ids that skip far ahead in the Map', () => {
    const t = new RecordTable();
    for (let n = 1; n <= 100; n++) t.set(mid(n), rec(mid(n)));
    for (let n = 1; n <= 100; n++) expect(t.delete(mid(n))).toBe(true);
    expect(t.size).toBe(0);
    t.set(mid(5_000), rec(mid(5_000)));
    t.set(mid(5_001), rec(mid(5_001)));
    t.set(mid(9_000), rec(mid(9_000)));
    expect(t.size).toBe(3);
    for (const n of [5_000, 5_001, 9_000]) expect(t.get(mid(n))?.key).toBe(mid(n));
    expect(t.get(mid(1))).toBeUndefined();
  });
});

