/**
 * The worker of a partitioned Redis queue: one {@link RedisConsumerLoop} per partition (each with
 * its own finish calls, lease rounds and blocking wake-up, so that on a cluster every master is
 * worked in parallel), sharing the worker's slots fairly. A partition may use every free slot
 * while the others have nothing to start; when several have claimed tasks waiting, a free slot
 * goes to the one running the fewest (on a tie, the one that started a task longest ago), so
 * the partitions converge to equal shares and none is starved by a busier one.
 */
import type { Consumer, Outcome, WorkerCommand } from '../../engine/broker';
import type { TaskRecord } from '../../task/task-record';
import { partitionOf } from './partition-tags';
import { RedisConsumerLoop } from './redis-consumer-loop';
import type { RedisNotifier } from './redis-notifier';
import type { RedisStorage } from './redis-storage';

/** The consumer loops of every partition of one queue, for one worker. */
export class PartitionLoops {
  readonly lanes: RedisConsumerLoop[] = [];
  /** Ids each partition's loop handed to the consumer and not yet finished. */
  private readonly running: Set<string>[] = [];
  /** When each partition last started a task (a counter: lower is longer ago). */
  private readonly started: number[] = [];
  private clock = 0;
  /** Partitions that left a free slot to a needier one: they look again once it took one. */
  private readonly deferred = new Set<number>();

  constructor(
    storage: RedisStorage,
    private readonly consumer: Consumer,
    concurrency: number,
    notifier: RedisNotifier,
  ) {
    const k = storage.partitions;
    const share = Math.ceil(concurrency / k);
    for (let i = 0; i < k; i++) {
      this.running.push(new Set());
      this.started.push(0);
      // each loop prefetches for its share of the slots
      this.lanes.push(new RedisConsumerLoop(storage.scope(i), this.laneConsumer(i), share, notifier));
    }
  }

  get workerId(): string {
    return this.consumer.workerId;
  }

  /** The loop of the partition holding task `id`. */
  laneOf(id: string): RedisConsumerLoop {
    return this.lanes[partitionOf(id, this.lanes.length)];
  }

  start(): void {
    for (const l of this.lanes) l.start();
  }

  wake(): void {
    for (const l of this.lanes) l.wake();
  }

  finish(rec: TaskRecord, outcome: Outcome): Promise<TaskRecord | undefined> {
    return new Promise((resolve, reject) => this.finishThen(rec, outcome, resolve, reject));
  }

  /** {@link finish} settled through `resolve` or `reject`. */
  finishThen(rec: TaskRecord, outcome: Outcome, resolve: (r: TaskRecord | undefined) => void, reject: (e: Error) => void): void {
    const p = partitionOf(rec.id, this.lanes.length);
    this.running[p].delete(rec.id);
    this.lanes[p].finishThen(rec, outcome, resolve, reject);
    // a slot came free: partitions waiting under their share may take it, and one that found
    // its queue empty while no slot was free (so did not wait on its inbox and marker, though
    // enqueues may hand it tasks) waits on them now
    for (let j = 0; j < this.lanes.length; j++) if (j !== p) this.lanes[j].wake();
  }

  onCancel(id: string, workerId: string, reason: string | undefined): void {
    this.laneOf(id).onCancel(id, workerId, reason);
  }

  itemPushed(id: string): void {
    this.laneOf(id).itemPushed(id);
  }

  /** An operator's command: applied to the consumer once, and by every loop (pause, heartbeat). */
  control(command: WorkerCommand): void {
    for (const l of this.lanes) l.control(command);
  }

  async stop(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.stop()));
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.close()));
  }

  /** The consumer as partition `i`'s loop sees it: its fair share of the free slots. */
  private laneConsumer(i: number): Consumer {
    const c = this.consumer;
    const lane: Consumer = {
      workerId: c.workerId,
      capacity: () => this.capacityOf(i),
      run: (rec) => {
        this.running[i].add(rec.id);
        this.started[i] = ++this.clock;
        c.run(rec);
        if (this.deferred.size > 0) {
          for (const d of this.deferred) this.lanes[d].wake();
          this.deferred.clear();
        }
      },
      abort: (id, reason) => c.abort(id, reason),
      info: () => c.info(),
    };
    // the worker applies a command once (loop 0 passes it on); every loop pauses itself
    if (i === 0 && c.control) lane.control = (command) => c.control!(command);
    return lane;
  }

  /** Free slots for partition `i`: none for its waiting tasks while another's need them more. */
  private capacityOf(i: number): number {
    const free = this.consumer.capacity();
    if (free <= 0) return 0;
    // with nothing of its own to start, it sizes claims and decides whether to wait on its
    // marker: it must see every free slot (deferring here would leave it neither claiming nor waiting)
    if (this.lanes[i].buffered === 0) return free;
    const ri = this.running[i].size;
    const si = this.started[i];
    for (let j = 0; j < this.lanes.length; j++) {
      if (j === i || this.lanes[j].buffered === 0) continue;
      const rj = this.running[j].size;
      if (rj < ri || (rj === ri && this.started[j] < si)) {
        // it goes first (strictly needier, so it never defers back to this one); this one looks
        // again once it took a slot
        this.lanes[j].wake();
        this.deferred.add(i);
        return 0;
      }
    }
    return free;
  }
}
