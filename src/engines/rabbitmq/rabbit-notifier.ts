/**
 * Waiting handles and stream readers of the RabbitMQ broker in one process: they are woken by the
 * events every process receives through the queue's fanout exchange, and poll the storage about
 * once a second as well (less often when thousands wait, see {@link POLL_BUDGET}), so that an event
 * lost while a connection was down delays a reader, never strands it.
 */
import { ClosedError, ResultTimeoutError } from '../../errors';
import type { StreamEndListener, StreamItemListener } from '../../engine/broker';
import type { Storage } from '../../engine/storage';
import { isFinal, TaskRecord } from '../../task/task-record';

/** How often a waiter reads the storage in case an event was missed (ms). */
const POLL_MS = 1_000;
/** How many ended records are kept for `result()` calls that come just after a drop. */
const RECENT = 1_000;
/** How long a waiter that found no record waits for an end event in flight before saying unknown (ms). */
const GRACE_MS = 250;
/**
 * Storage reads the waiters and readers of one process make per poll interval, about: with more of
 * them, each polls less often (a workflow's handle waits for thousands of members at once; a poll
 * each every 50 ms while this process's listening is fresh made a hundred thousand reads a second).
 */
const POLL_BUDGET = 200;

/** What the notifier tells its broker, and asks it. */
export interface NotifierHooks {
  /** A waiter or reader starts: this process listens to the queue's events. */
  listen(): void;
  /** How long to wait before reading the storage again, `slow` as a rule (ms). */
  pollMs(slow: number): number;
}

interface Waiter {
  done(record: TaskRecord | undefined): void;
  fail(err: Error): void;
}

interface Watcher {
  item(index: number, item: unknown): void;
  end(record: TaskRecord | undefined): void;
}

/** Result and stream waiters of one broker. */
export class RabbitNotifier {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly watchers = new Map<string, Set<Watcher>>();
  private closed = false;

  constructor(
    private readonly storage: Storage,
    /** Told of each new waiter or reader; gives how long one waits before reading the storage again. */
    private readonly hooks: NotifierHooks,
  ) {}

  /** True while a `result()` or `stream()` of this process waits. */
  waits(): boolean {
    return this.waiters.size > 0 || this.watchers.size > 0;
  }

  /** How long one waiter or reader waits before reading the storage again: longer as more of them poll. */
  private pollDelay(): number {
    const polling = this.waiters.size + this.watchers.size;
    return this.hooks.pollMs(POLL_MS) * Math.max(1, Math.ceil(polling / POLL_BUDGET));
  }

  /**
   * Ends heard lately (newest {@link RECENT} kept): a record dropped at its end (`removeOnComplete`)
   * still settles a `result()` called just after.
   */
  private recent: TaskRecord[] = [];
  /** Where the next end heard goes in {@link recent} (a ring: the oldest is overwritten). */
  private recentAt = 0;

  /**
   * The newest end heard lately of task `id`. The ring is only searched when a record is missing
   * from the storage (rare), so that each end costs one store, not a dictionary's insert and delete.
   */
  private heard(id: string): TaskRecord | undefined {
    const ring = this.recent;
    for (let n = 1; n <= ring.length; n++) {
      const rec = ring[(this.recentAt - n + ring.length) % ring.length];
      if (rec.id === id) return rec;
    }
    return undefined;
  }

  /** A task ended (its record as stored), wherever it ran. */
  ended(record: TaskRecord): void {
    if (this.recent.length < RECENT) this.recent.push(record);
    else this.recent[this.recentAt] = record;
    this.recentAt = (this.recentAt + 1) % RECENT;
    // copies: a waiter or watcher leaves its set when told; most ends have neither
    const waiters = this.waiters.get(record.id);
    if (waiters !== undefined) for (const w of [...waiters]) w.done(record);
    const watchers = this.watchers.get(record.id);
    if (watchers !== undefined) for (const w of [...watchers]) w.end(record);
  }

  /** A task streamed an item, wherever it runs. */
  item(id: string, index: number, item: unknown): void {
    for (const w of [...(this.watchers.get(id) ?? [])]) w.item(index, item);
  }

  waitFinal(id: string, timeoutMs?: number): Promise<TaskRecord | undefined> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let poll: NodeJS.Timeout | undefined;
      let timer: NodeJS.Timeout | undefined;
      const set = this.add(this.waiters, id);
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(poll);
        set.delete(waiter);
        if (set.size === 0) this.waiters.delete(id);
        fn();
      };
      const waiter: Waiter = { done: (rec) => finish(() => resolve(rec)), fail: (err) => finish(() => reject(err)) };
      set.add(waiter);
      this.hooks.listen();
      if (timeoutMs !== undefined) timer = setTimeout(() => finish(() => reject(new ResultTimeoutError(id, timeoutMs))), timeoutMs);
      const check = () => {
        if (settled || this.closed) return;
        this.storage.get(id).then(
          (rec) => {
            const heard = this.heard(id);
            if (rec !== undefined && isFinal(rec.status)) waiter.done(rec);
            // unknown: dropped at its end (its event heard, or on its way), or never known
            else if (rec === undefined && heard) waiter.done(heard);
            else if (rec === undefined) poll = setTimeout(() => waiter.done(this.heard(id)), GRACE_MS);
            else if (!settled) poll = setTimeout(check, this.pollDelay());
          },
          (err: Error) => finish(() => reject(err)),
        );
      };
      check();
    });
  }

  watchItems(id: string, from: number, onItem: StreamItemListener, onEnd: StreamEndListener): () => void {
    let next = from;
    let stopped = false;
    let syncing: Promise<void> = Promise.resolve();
    let poll: NodeJS.Timeout | undefined;
    const set = this.add(this.watchers, id);
    const stop = () => {
      stopped = true;
      clearTimeout(poll);
      set.delete(watcher);
      if (set.size === 0) this.watchers.delete(id);
    };
    // reads the items not delivered yet from the storage, one read at a time
    const sync = () =>
      (syncing = syncing.then(async () => {
        if (stopped) return;
        const items = await this.storage.items(id, next);
        for (const it of items) {
          if (stopped) return;
          onItem(it, next++);
        }
      }));
    const end = (rec: TaskRecord | undefined, error?: Error) => {
      if (stopped) return;
      sync().then(
        () => {
          if (stopped) return;
          stop();
          onEnd(rec, error);
        },
        (err: Error) => {
          if (stopped) return;
          stop();
          onEnd(undefined, err);
        },
      );
    };
    const watcher: Watcher = {
      item: (index, item) => {
        if (stopped || index < next) return;
        if (index === next) {
          syncing = syncing.then(() => {
            if (!stopped && index === next) onItem(item, next++);
          });
        } else void sync().catch(() => undefined);
      },
      end: (rec) => end(rec),
    };
    set.add(watcher);
    this.hooks.listen();
    const check = () => {
      if (stopped || this.closed) return;
      this.storage.get(id).then(
        (rec) => {
          if (rec === undefined) end(this.heard(id));
          else if (isFinal(rec.status)) end(rec);
          else if (!stopped) {
            void sync().catch(() => undefined);
            poll = setTimeout(check, this.pollDelay());
          }
        },
        (err: Error) => end(undefined, err),
      );
    };
    check();
    return stop;
  }

  /** Pending waiters reject `QTASKS_ERR_CLOSED`. */
  close(): void {
    this.closed = true;
    for (const set of this.waiters.values()) for (const w of [...set]) w.fail(new ClosedError('result()'));
    this.waiters.clear();
    this.watchers.clear();
    this.recent = [];
    this.recentAt = 0;
  }

  private add<T>(map: Map<string, Set<T>>, id: string): Set<T> {
    let set = map.get(id);
    if (!set) map.set(id, (set = new Set()));
    return set;
  }
}
