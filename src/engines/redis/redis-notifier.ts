/**
 * The subscriber side of a Redis engine: one subscriber connection per engine receives the queue's
 * channels (see {@link decodeChannelMessage}) and routes them: ends and items go to the shared
 * {@link FinalWatch} (waiting `result()` calls, `stream()` readers, events in this process); cancel
 * requests and operators' commands go to the worker. A notification lost while disconnected is
 * made up for by re-reading the records after a reconnect and on a slow timer.
 */
import type { StreamEndListener, StreamItemListener, WorkerCommand } from '../../engine/broker';
import type { Redis } from 'ioredis';
import type { EngineContext } from '../../engine/broker';
import { BrokerUnavailableError } from '../../errors';
import type { TaskRecord } from '../../task/task-record';
import type { RedisStorage } from './redis-storage';
import { decodeChannelMessage } from './channel-message';
import { FinalWatch } from '../shared/final-watch';
import { randomBytes } from 'node:crypto';
import { listensToTaskEvents } from '../shared/task-events';

/** Called for a cancel request of a running task: (id, workerId, reason). */
export type CancelHandler = (id: string, workerId: string, reason: string | undefined) => void;

/** Announcements of listeners made by this process, and a mark of the process (see `announce`). */
let announced = 0;
const PROCESS_MARK = randomBytes(6).toString('base64url');


/** Dispatches the queue's channel in this process. */
export class RedisNotifier {
  private readonly ends: FinalWatch;
  private events: Promise<void> | undefined;
  /** True while the event subscription is known to have been up without a break. */
  private eventsLive = false;
  /** Bumped when the subscriber connection drops (notifications may have been lost). */
  private epoch = 0;
  private control: Promise<void> | undefined;
  private wired = false;
  private everReady = false;
  onCancel: CancelHandler | undefined;
  /** Receives operators' commands for a worker (the control channel's `w` messages). */
  onWorkerCommand: ((workerId: string, command: WorkerCommand) => void) | undefined;
  /** True for the id of this process's worker (whose ends are delivered locally). */
  isLocal: (workerId: string) => boolean = () => false;

  constructor(
    private readonly storage: RedisStorage,
    private readonly ctx: EngineContext,
  ) {
    this.ends = new FinalWatch(storage, ctx, {
      epoch: () => this.epoch,
      live: () => this.eventsLive,
      ready: (what) => this.ready(what),
    });
  }

  private sub(): Redis {
    const sub = this.storage.link.sub;
    if (!this.wired) {
      this.wired = true;
      sub.on('message', (_ch: string, msg: string) => this.dispatch(msg));
      sub.on('ready', () => {
        if (this.everReady) {
          // subscribed again (confirmed by a SUBSCRIBE of its own, behind the automatic one) and
          // announced before the records are read again: ends recorded after that are published
          if (this.events !== undefined) {
            const again = () => this.ends.recheckAll();
            this.listen(this.storage.keys.channel).then(() => this.announce()).then(again, again);
          } else setTimeout(() => this.ends.recheckAll(), 20).unref();
        }
        this.everReady = true;
      });
      sub.on('close', () => {
        this.eventsLive = false;
        this.epoch++;
        this.ends.forgetAll();
      });
    }
    return sub;
  }

  private listen(channel: string): Promise<void> {
    const p = this.sub().subscribe(channel).then(() => undefined);
    p.catch(() => undefined);
    return p;
  }

  /** True when someone in this process listens to the events the channel carries. */
  wantsEvents(): boolean {
    return listensToTaskEvents(this.ctx);
  }

  /** True while the event channel subscription is confirmed (false until then, and after a break). */
  get eventsConfirmed(): boolean {
    return this.eventsLive;
  }

  /** True once this process subscribed to the event channel. */
  get hasEvents(): boolean {
    return this.events !== undefined;
  }

  /**
   * Tells the workers of the queue that a process (now) listens on the event channel: writes a new
   * mark (`ls` of each partition's meta hash, unique to this announcement) that a worker's finish
   * call compares with the mark under which it last found nobody else listening (it then skips
   * PUBSUB NUMSUB). Sent once the subscription is confirmed, and before any record is read. Not on a
   * cluster, where ends are always published.
   */
  private announce(): Promise<void> {
    const link = this.storage.link;
    if (link.isCluster) return Promise.resolve();
    return this.storage
      .call('Subscribing to the queue channel', (r) => {
        const pipe = r.pipeline();
        const mark = Date.now().toString(36) + '.' + (++announced).toString(36) + '.' + PROCESS_MARK;
        for (const k of this.storage.parts) pipe.hset(k.meta, 'ls', mark);
        return pipe.exec();
      })
      .then(() => undefined);
  }

  /** Subscribes to the event channel (ends, items, progress) once, and announces it. */
  ensureEvents(): Promise<void> {
    if (!this.events) {
      const epoch = this.epoch;
      this.events = this.listen(this.storage.keys.channel).then(() => this.announce());
      this.events.then(() => {
        if (this.epoch === epoch) this.eventsLive = true;
      }, () => undefined);
    }
    return this.events;
  }

  /** Notes tasks about to be enqueued while listening; returns false when not listening. */
  noteEnqueued(ids: string[]): boolean {
    return this.ends.noteEnqueued(ids);
  }

  /** Forgets noted tasks (the enqueue failed, the id existed already, or the task was removed). */
  forget(ids: string[]): void {
    this.ends.forget(ids);
  }

  forgetAll(): void {
    this.ends.forgetAll();
  }

  /** Subscribes to the control channel (cancel requests for workers) once. */
  ensureControl(): Promise<void> {
    return (this.control ??= this.listen(this.storage.keys.control));
  }

  /** Resolves when `p` does, or after `ms` (never rejects). */
  settled(p: Promise<void>, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([p.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]).then(() => clearTimeout(timer));
  }

  /** Resolves once `p` (a subscription) does; rejects `QTASKS_ERR_BROKER_UNAVAILABLE` after connectTimeoutMs. */
  ready(what: string, p: Promise<void> = this.ensureEvents()): Promise<void> {
    if (this.storage.link.sub.status === 'ready') return p;
    return new Promise((resolve, reject) => {
      const ms = this.storage.link.connectTimeoutMs;
      const t = setTimeout(() => reject(new BrokerUnavailableError(`${what}: Redis could not be reached within ${ms} ms (connectTimeoutMs)`)), ms);
      p.then(() => {
        clearTimeout(t);
        resolve();
      }, reject);
    });
  }

  waitFinal(id: string, timeoutMs?: number): Promise<TaskRecord | undefined> {
    return this.ends.waitFinal(id, timeoutMs);
  }

  watchItems(id: string, from: number, onItem: StreamItemListener, onEnd: StreamEndListener): () => void {
    return this.ends.watchItems(id, from, onItem, onEnd);
  }

  /** Ends every wait with `QTASKS_ERR_CLOSED`. */
  close(): void {
    this.ends.close();
  }

  // ---- messages ----

  private dispatch(msg: string): void {
    try {
      const m = decodeChannelMessage(msg, this.isLocal);
      if (m === undefined) return;
      switch (m.kind) {
        case 'records':
          for (const rec of m.records) this.ends.onRecord(rec);
          break;
        case 'ends':
          for (const entry of m.entries) {
            if (typeof entry === 'string') this.ends.onEndedId(entry);
            else this.ends.onRecord(entry);
          }
          break;
        case 'item':
          this.ends.onItem(m.id, m.index, m.item);
          break;
        case 'progress':
          if (this.ctx.listens('task:progress')) this.ctx.emit('task:progress', m.event());
          break;
        case 'cancel':
          this.onCancel?.(m.id, m.workerId, m.reason);
          break;
        case 'worker':
          this.onWorkerCommand?.(m.workerId, m.command);
          break;
      }
    } catch (err) {
      this.ctx.logger.error('A malformed message on the queue channel was skipped', { error: err });
    }
  }

  /** A task of this process's worker changed (ended, or failed with a retry). */
  deliver(rec: TaskRecord): void {
    this.ends.onRecord(rec);
  }
}
