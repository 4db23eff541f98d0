/**
 * Record copies: every public field in RECORD_KEYS order, unset ones (and `stalls: 0`) left out,
 * fields read through accessors too, and `recordCopy` sharing no JSON value with the record.
 */
import { copyRecord, RECORD_KEYS, recordCopy } from '../../src/task/record-copy';
import type { TaskRecord } from '../../src/task/task-record';

const full = (): TaskRecord =>
  Object.fromEntries(RECORD_KEYS.map((k, i) => [k, k === 'args' ? [i] : k === 'error' ? { message: 'm', code: 'C' } : `${k}-${i}`])) as unknown as TaskRecord;

describe('record copies', () => {
  it('copies every public field, in RECORD_KEYS order, and nothing else', () => {
    const rec = { ...full(), extra: 1 } as TaskRecord;
    const out = copyRecord(rec);
    expect(Object.keys(out)).toEqual([...RECORD_KEYS]);
    for (const k of RECORD_KEYS) expect(out[k]).toBe(rec[k]);
  });

  it('leaves out unset fields and stalls of 0', () => {
    const rec = { id: 'a', name: 'n', status: 'new', priority: 0, args: [], attempt: 0, createdAt: 1, updatedAt: 1, stalls: 0, runAt: undefined } as TaskRecord;
    expect(Object.keys(copyRecord(rec))).toEqual(['id', 'name', 'status', 'priority', 'args', 'attempt', 'createdAt', 'updatedAt']);
    expect(copyRecord({ ...rec, stalls: 2 }).stalls).toBe(2);
  });

  it('reads fields through accessors', () => {
    class Rec {
      get id(): string {
        return 'x';
      }
      get status(): string {
        return 'success';
      }
    }
    expect(copyRecord(new Rec() as unknown as TaskRecord)).toEqual({ id: 'x', status: 'success' });
  });

  it('recordCopy shares no JSON value with the record', () => {
    const rec = full();
    const out = recordCopy(rec);
    expect(out).toEqual(copyRecord(rec));
    expect(out.args).not.toBe(rec.args);
    expect(out.error).not.toBe(rec.error);
  });
});
