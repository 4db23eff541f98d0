/**
 * Partitions of a Redis queue: one busy queue split over K hash tags, so that on a Redis Cluster
 * it is served by several masters. Every process computes the same tags from the queue name and
 * K alone (no shared state, no look-up), and finds a task's partition from its id.
 *
 * Tags. Partition p of K has the tag `<queue>~<p>.<n>`, where n is the first suffix whose slot
 * (CRC16, as Redis Cluster computes it) is closest to the middle of the p-th of K equal slot
 * ranges. A cluster whose slots are split evenly between its masters (as `redis-cli --cluster
 * create` and a balanced reshard leave them) then has every master serve at least one partition
 * when K ≥ the number of masters, and each partition's slot sits far from a range boundary. One
 * partition (K = 1) keeps the plain `{<queue>}` tag.
 *
 * Ids. A task's partition is a hash of its id (FNV-1a, mod K): producers spread tasks evenly, the
 * same `id` (deduplication) always lands on the same partition, and any process finds a task from
 * its id alone.
 */

/** Slots of a Redis Cluster. */
const CLUSTER_SLOTS = 16384;

/** Suffixes tried per partition (the best lands within a few slots of its target). */
const CANDIDATES = 2048;

const CRC_TABLE = ((): Uint16Array => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/** The Redis Cluster slot of a hash tag's content (CRC16-XMODEM of its UTF-8 bytes, mod 16384). */
export function slotOf(tag: string): number {
  let crc = 0;
  for (const b of Buffer.from(tag, 'utf8')) crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >> 8) ^ b) & 0xff];
  return crc % CLUSTER_SLOTS;
}

const tagCache = new Map<string, string[]>();

/** The hash tags of the K partitions of `queue` (`[queue]` for one partition). */
export function partitionTags(queue: string, partitions: number): string[] {
  if (partitions === 1) return [queue];
  const cacheKey = `${partitions}\0${queue}`;
  const cached = tagCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const tags: string[] = [];
  const width = CLUSTER_SLOTS / partitions;
  for (let p = 0; p < partitions; p++) {
    const target = (p + 0.5) * width;
    let best = '';
    let bestDistance = Infinity;
    for (let n = 0; n < CANDIDATES; n++) {
      const tag = `${queue}~${p}.${n}`;
      const d = Math.abs(slotOf(tag) - target);
      if (d < bestDistance) {
        best = tag;
        bestDistance = d;
      }
    }
    tags.push(best);
  }
  tagCache.set(cacheKey, tags);
  return tags;
}

/** The partition (0 … partitions-1) of the task `id`. */
export function partitionOf(id: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}
