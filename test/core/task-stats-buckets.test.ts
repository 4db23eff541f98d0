/**
 * The statistics histogram's buckets: the looked-up buckets of whole milliseconds are those the
 * logarithm gives, and times off the table are computed as before.
 */
import { bucketOf } from '../../src/stats/task-stats';

const byLog = (ms: number): number => (ms < 1 ? 0 : Math.floor(Math.log2(ms) * 4) + 1);

describe('task statistics buckets', () => {
  it('gives every whole ms the bucket of its logarithm, on the table and past it', () => {
    for (let ms = 0; ms < 20_000; ms++) expect(bucketOf(ms)).toBe(byLog(ms));
    for (const ms of [2 ** 20, 2 ** 31 - 1, 86_400_000, 1e12]) expect(bucketOf(ms)).toBe(byLog(ms));
  });

  it('computes fractional and negative times as before', () => {
    for (const ms of [-5, -0.5, 0.25, 0.999, 1.5, 2.0001, 4095.5, 4096.25, NaN]) expect(bucketOf(ms)).toBe(byLog(ms));
  });
});
