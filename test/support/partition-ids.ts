import { partitionOf } from 'qtasks/redis';

/** The first id `<label>-<n>` that falls on partition `p` of `k` (tests that need every partition used pick ids so). */
export function idOnPartition(label: string, p: number, k: number): string {
  for (let n = 0; ; n++) if (partitionOf(`${label}-${n}`, k) === p) return `${label}-${n}`;
}
