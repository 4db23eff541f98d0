/**
 * The attempt list of a record (attemptsOf): the entries and their keys, in order, for records on
 * their first attempt (built whole) and on later ones (from the stored history).
 */
import { attemptsOf } from '../../src/task/task-history';
import type { TaskRecord } from '../../src/task/task-record';

const base: TaskRecord = { id: 't1', name: 'n', status: 'new', priority: 0, args: [], attempt: 0, createdAt: 1, updatedAt: 1 };
const rec = (over: Partial<TaskRecord>): TaskRecord => ({ ...base, ...over });
/** The entries as JSON text: the keys' order shows too. */
const text = (r: TaskRecord, earlier?: Parameters<typeof attemptsOf>[1]): string | undefined => JSON.stringify(attemptsOf(r, earlier));

describe('attemptsOf', () => {
  it('gives none before the first attempt', () => {
    expect(attemptsOf(rec({}), undefined)).toBeUndefined();
  });

  it('gives the running first attempt with its start and worker', () => {
    expect(text(rec({ status: 'process', attempt: 1, startedAt: 5, workerId: 'w' }))).toBe('[{"attempt":1,"status":"process","startedAt":5,"workerId":"w"}]');
    expect(text(rec({ status: 'process', attempt: 1, startedAt: 5, finishedAt: 6, workerId: 'w' }))).toBe('[{"attempt":1,"status":"process","startedAt":5,"workerId":"w"}]');
    expect(text(rec({ status: 'process', attempt: 1 }))).toBe('[{"attempt":1,"status":"process"}]');
    expect(text(rec({ status: 'process', attempt: 1, workerId: 'w' }))).toBe('[{"attempt":1,"status":"process","workerId":"w"}]');
  });

  it('gives the ended first attempt with its times, error and worker in one order', () => {
    expect(text(rec({ status: 'success', attempt: 1, startedAt: 5, finishedAt: 6, workerId: 'w' }))).toBe('[{"attempt":1,"status":"success","startedAt":5,"finishedAt":6,"workerId":"w"}]');
    expect(text(rec({ status: 'cancel', attempt: 1, startedAt: 5, workerId: 'w' }))).toBe('[{"attempt":1,"status":"cancel","startedAt":5,"workerId":"w"}]');
    expect(text(rec({ status: 'success', attempt: 1, finishedAt: 6 }))).toBe('[{"attempt":1,"status":"success","finishedAt":6}]');
    const error = { name: 'E', message: 'm', code: 'C', stack: 's' };
    expect(text(rec({ status: 'error', attempt: 1, startedAt: 5, finishedAt: 6, workerId: 'w', error }))).toBe(
      '[{"attempt":1,"status":"error","startedAt":5,"finishedAt":6,"error":{"name":"E","message":"m","code":"C"},"workerId":"w"}]',
    );
  });

  it('shows a first attempt that left the record as stalled', () => {
    expect(text(rec({ status: 'retry', attempt: 1 }))).toBe('[{"attempt":1,"status":"stalled"}]');
    expect(text(rec({ status: 'new', attempt: 1 }))).toBe('[{"attempt":1,"status":"stalled"}]');
  });

  it('puts the stored history, stalled attempts and the latest one in order', () => {
    const earlier = [{ attempt: 1, status: 'retry' as const, finishedAt: 3 }];
    expect(text(rec({ status: 'success', attempt: 3, startedAt: 5, finishedAt: 6, workerId: 'w' }), earlier)).toBe(
      '[{"attempt":1,"status":"retry","finishedAt":3},{"attempt":2,"status":"stalled"},{"attempt":3,"status":"success","startedAt":5,"finishedAt":6,"workerId":"w"}]',
    );
    expect(text(rec({ status: 'process', attempt: 1, startedAt: 5, workerId: 'w' }), [])).toBe('[{"attempt":1,"status":"process","startedAt":5,"workerId":"w"}]');
  });
});
