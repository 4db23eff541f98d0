/**
 * The `stream()` readers of one process on a queue: each gets every stored item from its start
 * index, then the live ones in order (a gap or a read under way makes it read the stored items
 * again), and ends with the task's final record. An item that cannot be decoded is skipped; the
 * next one keeps its index. Engine-neutral: the Redis and PostgreSQL notifiers read through an
 * {@link ItemSource}.
 */
import type { StreamEndListener, StreamItemListener } from '../../engine/broker';
import { isFinal, TaskRecord } from '../../task/task-record';

/** A stored item with its index. */
export interface StoredItem {
  index: number;
  value: unknown;
}

/** Where readers read stored items and records (an engine's storage). */
export interface ItemSource {
  /** Items from index `from`, with their index (one that cannot be decoded is left out). */
  itemsAt(id: string, from: number): Promise<StoredItem[]>;
  get(id: string): Promise<TaskRecord | undefined>;
}

/** One stream reader. */
export interface Watcher {
  id: string;
  next: number;
  onItem: StreamItemListener;
  onEnd: StreamEndListener;
  /** A read of stored items is under way: live items wait for it. */
  loading: boolean;
  ended: boolean;
}

/** Stream readers by task id. */
export class ItemWatchers {
  private readonly watchers = new Map<string, Set<Watcher>>();

  /**
   * @param recordFirst read the record, then the items, one after the other: where the two reads
   * may run on different connections, only items read after a final record are surely all of them
   * (read together, the items could be the older view). Otherwise both are read at once.
   */
  constructor(
    private readonly storage: ItemSource,
    private readonly recordFirst = false,
  ) {}

  /** How many tasks are watched. */
  get size(): number {
    return this.watchers.size;
  }

  has(id: string): boolean {
    return this.watchers.has(id);
  }

  /** Adds a reader of task `id` from index `from`; it reads nothing until {@link catchUp}. */
  add(id: string, from: number, onItem: StreamItemListener, onEnd: StreamEndListener): Watcher {
    const w: Watcher = { id, next: from, onItem, onEnd, loading: true, ended: false };
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(w);
    return w;
  }

  /** A live item of task `id`. */
  onItem(id: string, index: number, item: unknown): void {
    const set = this.watchers.get(id);
    if (!set) return;
    for (const w of set) {
      if (w.ended || w.loading || index < w.next) continue;
      if (index > w.next) {
        void this.catchUp(w, false);
        continue;
      }
      w.next++;
      w.onItem(item, index);
    }
  }

  /** Item `index` of task `id` was stored but came without its value: its readers read it. */
  onGap(id: string, index: number): void {
    const set = this.watchers.get(id);
    if (!set) return;
    for (const w of set) if (!w.ended && !w.loading && index >= w.next) void this.catchUp(w, false);
  }

  /** Task `rec.id` ended: its readers read what is left and end. */
  onFinal(rec: TaskRecord): void {
    const set = this.watchers.get(rec.id);
    if (set) for (const w of set) void this.catchUp(w, false, rec);
  }

  /** Reads stored items from `w.next` (and the record), delivers them, ends the watcher if final. */
  async catchUp(w: Watcher, first: boolean, final?: TaskRecord): Promise<void> {
    if (w.ended || (!first && w.loading && final === undefined)) return;
    w.loading = true;
    try {
      const start = w.next;
      let items: StoredItem[];
      let rec: TaskRecord | undefined;
      if (this.recordFirst) {
        rec = final ?? (await this.storage.get(w.id));
        items = await this.storage.itemsAt(w.id, start);
      } else {
        [items, rec] = await Promise.all([this.storage.itemsAt(w.id, start), final ?? this.storage.get(w.id)]);
      }
      if (w.ended) return;
      // an item that cannot be decoded is skipped: the next one keeps its index
      for (const { index, value } of items) {
        if (index < w.next) continue; // delivered meanwhile by another read
        w.next = index + 1;
        w.onItem(value, index);
      }
      w.loading = false;
      if (rec === undefined || isFinal(rec.status)) this.end(w, rec);
    } catch (err) {
      if (first) this.end(w, undefined, err as Error);
      else w.loading = false;
    }
  }

  /** Reads again for every reader not reading now (a notification may have been lost). */
  recheck(): void {
    for (const set of this.watchers.values()) for (const w of set) if (!w.loading) void this.catchUp(w, false);
  }

  /** Ends a reader (once) with the final record, or with an error. */
  end(w: Watcher, rec: TaskRecord | undefined, err?: Error): void {
    if (w.ended) return;
    w.ended = true;
    this.drop(w);
    w.onEnd(rec, err);
  }

  /** Removes a reader without ending it (it unsubscribed). */
  drop(w: Watcher): void {
    const set = this.watchers.get(w.id);
    if (set && set.delete(w) && set.size === 0) this.watchers.delete(w.id);
  }

  /** Ends every reader with `err`. */
  endAll(err: () => Error): void {
    for (const set of [...this.watchers.values()]) for (const w of set) this.end(w, undefined, err());
  }
}
