/**
 * Record writes of the memory storage (the `RecordWriter` capability), for a broker of another
 * engine that keeps its records in memory. The memory broker does not use it: it changes its
 * records in place.
 */
import type { RecordPatch, RecordWriter } from '../../engine/storage';
import type { Retention } from '../../task/retention';
import type { TaskRecord, TaskStatus } from '../../task/task-record';
import { MemRecord, publicRecord } from './mem-record';
import type { MemoryStorage } from './memory-storage';

/** Fields a patch may set on a stored record (the others are fixed at insert). */
const PATCHABLE = ['attempt', 'progress', 'startedAt', 'finishedAt', 'returning', 'error', 'cancelReason', 'workerId', 'runAt', 'stalls', 'priority'] as const;

/** `RecordWriter` over a {@link MemoryStorage}: copies in, copies out. */
export class MemoryRecordWriter implements RecordWriter {
  constructor(private readonly storage: MemoryStorage) {}

  async insert(records: readonly TaskRecord[]): Promise<TaskRecord[]> {
    return records.map((src) => {
      const existing = this.storage.records.get(src.id);
      if (existing !== undefined) return copy(existing);
      const given = structuredClone(src);
      const rec = new MemRecord(given.id, given.name, given.priority, given.args, given.createdAt, given);
      apply(rec, given);
      this.storage.add(rec);
      return copy(rec);
    });
  }

  async transition(id: string, from: readonly TaskStatus[], patch: RecordPatch, keep?: Retention): Promise<TaskRecord | undefined> {
    const rec = this.storage.records.get(id);
    if (rec === undefined || !from.includes(rec.status)) return undefined;
    const given = structuredClone(patch);
    apply(rec, given);
    const now = given.updatedAt ?? Date.now();
    const to = given.status;
    const ends = to !== undefined && to !== rec.status;
    if (ends) this.storage.setStatus(rec, to, now);
    else rec.updatedAt = now;
    const out = copy(rec);
    // the retention of that end, as the memory engine applies it
    if (ends && keep !== undefined && (rec.status === 'success' || rec.status === 'error')) this.storage.retain(rec, rec.status, keep, now);
    return out;
  }

  async appendItem(id: string, item: unknown): Promise<number> {
    const rec = this.storage.records.get(id);
    if (rec === undefined) return -1;
    (rec.items ??= []).push(structuredClone(item));
    return rec.items.length - 1;
  }

  async appendItems(id: string, items: readonly unknown[]): Promise<number> {
    const rec = this.storage.records.get(id);
    if (rec === undefined) return -1;
    // all copied first: an item that cannot be copied stores none
    const copies = items.map((item) => structuredClone(item));
    const list = (rec.items ??= []);
    const first = list.length;
    for (const c of copies) list.push(c);
    return first;
  }
}

function apply(rec: MemRecord, patch: RecordPatch): void {
  const target = rec as unknown as Record<string, unknown>;
  for (const key of PATCHABLE) if (key in patch) target[key] = (patch as Record<string, unknown>)[key];
  if (patch.updatedAt !== undefined) rec.updatedAt = patch.updatedAt;
}

function copy(rec: MemRecord): TaskRecord {
  return structuredClone(publicRecord(rec));
}
