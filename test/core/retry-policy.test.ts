/**
 * The retry decision on its own: jitter spreads delays within the stated range, and a backoff
 * function's answer is honoured (negative: no more retries).
 */
import 'reflect-metadata';
import { ConsoleLogger, TaskRecord, UnrecoverableError } from 'qtasks';
import { retryDelay, withJitter } from '../../src/worker/retry-policy';

const logger = new ConsoleLogger('silent');
const rec = (attempt: number, extra: Partial<TaskRecord> = {}): TaskRecord =>
  ({ id: 'r', name: 'n', status: 'process', priority: 0, args: [], attempt, createdAt: 0, updatedAt: 0, retry: 5, ...extra }) as TaskRecord;

describe('retry policy', () => {
  it('jitter draws each delay between (1 - jitter) and all of it, not always the same', () => {
    const draws = Array.from({ length: 200 }, () => withJitter({ type: 'exponential', delay: 100, jitter: 0.5 }, 3));
    for (const d of draws) {
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(400);
    }
    expect(new Set(draws).size).toBeGreaterThan(10);
    expect(withJitter({ type: 'fixed', delay: 70 }, 4)).toBe(70);
  });

  it('calls a backoff function with the attempt and the error; negative ends the task', () => {
    const err = new Error('x');
    const seen: unknown[] = [];
    const backoff = (attempt: number, e: unknown) => (seen.push([attempt, e]), attempt === 1 ? 250 : -1);
    expect(retryDelay(rec(1), { backoff }, err, logger)).toBe(250);
    expect(retryDelay(rec(2), { backoff }, err, logger)).toBeUndefined();
    expect(seen).toEqual([[1, err], [2, err]]);
    expect(retryDelay(rec(1), { backoff: () => { throw new Error('bad'); } }, err, logger)).toBeUndefined();
  });

  it('never retries an UnrecoverableError', () => {
    expect(retryDelay(rec(1), { retry: 5 }, new UnrecoverableError('no'), logger)).toBeUndefined();
    expect(retryDelay(rec(1), { retry: 5 }, new Error('yes'), logger)).toBe(0);
  });
});
