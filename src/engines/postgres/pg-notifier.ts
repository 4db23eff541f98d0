/**
 * The listening side of a PostgreSQL engine: one LISTEN connection per engine receives the queue's
 * channel (ends of tasks by batch, streamed items, progress, cancel requests, wake-ups) and routes
 * it: ends and items go to the shared {@link FinalWatch} (waiting `result()` calls, `stream()`
 * readers, events of this process), wake-ups, cancel requests and commands to the worker. A
 * notification lost while disconnected is made up for by re-reading the records after the
 * listener reconnects and on a slow timer.
 *
 * Workers put whole records in their end notifications only while another process wants them: a
 * process with waiting `result()` calls, stream readers or end-event listeners says so on the
 * channel (`L<key>`, at most once a second while it wants them); a worker starting asks (`?`).
 * Otherwise ends go by id, and a process that needs one after all reads it.
 */
import { randomBytes } from 'node:crypto';
import type { EngineContext, StreamEndListener, StreamItemListener, WorkerCommand } from '../../engine/broker';
import type { TaskRecord } from '../../task/task-record';
import { FinalWatch } from '../shared/final-watch';
import { ListenBeacon } from '../shared/listen-beacon';
import type { PostgresStorage } from './postgres-storage';

/** What the notifier tells the worker of this process. */
export interface NotifierHooks {
  /** Tasks were queued (`due`: earliest time of delayed ones, when given). */
  queued(due: number | undefined): void;
  /** A cancel request of a running task: `long` when the reason did not fit the message. */
  cancel(id: string, workerId: string, reason: string | undefined, long: boolean): void;
  /** An operator's command for a worker (`manager.pauseWorker` etc.). */
  command(workerId: string, command: WorkerCommand): void;
  /** True for the id of this process's worker (whose ends are delivered locally). */
  isLocal(workerId: string): boolean;
}

/** How often a process that wants records says so. */
const ANNOUNCE_MS = 1_000;
/** How long a worker sends records after hearing that another process wants them. */
const WANTED_MS = 5_000;

/** Dispatches the queue's channel in this process. */
export class PgNotifier {
  /** Record first, then items: the two reads run on different connections of the pool. */
  private readonly ends: FinalWatch;
  hooks: NotifierHooks | undefined;
  /** Tells this engine's own announcements from those of others. */
  private readonly key = randomBytes(6).toString('base64url');
  /** Says `L<key>` while this process wants records; hears the others' (the shared {@link ListenBeacon}). */
  private readonly beacon: ListenBeacon;

  constructor(
    private readonly storage: PostgresStorage,
    private readonly ctx: EngineContext,
  ) {
    const link = storage.link;
    this.ends = new FinalWatch(storage, ctx, { epoch: () => link.epoch, live: () => link.listenLive, ready: () => Promise.resolve() }, true);
    this.beacon = new ListenBeacon({
      periodMs: ANNOUNCE_MS,
      liveMs: WANTED_MS,
      lingerMs: 0,
      wanted: () => this.ends.wantsRecords(),
      say: () => this.say('L' + this.key),
    });
  }

  /** Listens on the queue's channel; resolves once LISTEN is up. */
  start(): Promise<void> {
    const link = this.storage.link;
    link.onRelisten.push(() => {
      this.ends.forgetAll();
      this.ends.recheckAll();
      this.hooks?.queued(undefined);
    });
    const listening = link.listen(this.storage.channel, (msg) => this.dispatch(msg));
    // end-event listeners added before the engine started
    this.announce();
    return listening;
  }

  /** True while another process wants whole records in end notifications. */
  othersWantRecords(now: number): boolean {
    return this.beacon.othersListen(now);
  }

  /** Says on the channel that this process wants records, when it does (then every second while it does). */
  announce(): void {
    if (this.ends.wantsRecords()) this.beacon.listen();
  }

  /** A worker starting asks who wants records. */
  ask(): void {
    this.say('?');
  }

  private say(msg: string): void {
    const s = this.storage;
    s.q('notify', 'SELECT pg_notify($1, $2)', [s.channel, msg]).catch((err: Error) => this.ctx.logger.debug('A notification could not be sent', { error: err }));
  }

  /** Notes tasks about to be enqueued while listening; returns false when not listening. */
  noteEnqueued(ids: string[]): boolean {
    return this.ends.noteEnqueued(ids);
  }

  /** Forgets noted tasks (the enqueue failed, the id existed already, the task was removed). */
  forget(ids: string[] | undefined): void {
    if (ids === undefined) this.ends.forgetAll();
    else this.ends.forget(ids);
  }

  waitFinal(id: string, timeoutMs?: number): Promise<TaskRecord | undefined> {
    const p = this.ends.waitFinal(id, timeoutMs);
    this.announce();
    return p;
  }

  watchItems(id: string, from: number, onItem: StreamItemListener, onEnd: StreamEndListener): () => void {
    const stop = this.ends.watchItems(id, from, onItem, onEnd);
    this.announce();
    return stop;
  }

  /** Ends every wait with `QTASKS_ERR_CLOSED`. */
  close(): void {
    this.beacon.close();
    this.ends.close();
  }

  /** A task of this process's worker changed (ended, or failed with a retry). */
  deliver(rec: TaskRecord): void {
    this.ends.onRecord(rec);
  }

  // ---- messages ----

  private dispatch(msg: string): void {
    try {
      const kind = msg.charCodeAt(0);
      if (kind === 110 /* n */) {
        this.hooks?.queued(msg.length > 1 ? Number(msg.slice(1)) : undefined);
      } else if (kind === 70 /* F */) {
        const sp = msg.indexOf(' ');
        if (this.hooks?.isLocal(msg.slice(1, sp))) return;
        this.onList(JSON.parse(msg.slice(sp + 1)) as (TaskRecord | string)[]);
      } else if (kind === 102 /* f */) {
        this.onList(JSON.parse(msg.slice(1)) as (TaskRecord | string)[]);
      } else if (kind === 105 /* i */) {
        const parts = JSON.parse(msg.slice(1)) as [string, number, unknown?];
        // an item too large for a message comes by index only: its readers read it from the table
        this.ends.onItem(parts[0], parts[1], parts[2], parts.length > 2);
      } else if (kind === 112 /* p */) {
        if (this.ctx.listens('task:progress')) this.ctx.emit('task:progress', JSON.parse(msg.slice(1)));
      } else if (kind === 76 /* L */) {
        if (msg.slice(1) !== this.key) this.beacon.heard();
      } else if (kind === 63 /* ? */) {
        this.beacon.again();
      } else if (kind === 119 /* w */) {
        const [wid, command] = JSON.parse(msg.slice(1)) as [string, WorkerCommand];
        this.hooks?.command(wid, command);
      } else if (kind === 99 /* c */) {
        const [id, wid, reason, long] = JSON.parse(msg.slice(1)) as [string, string, string | null, number];
        this.hooks?.cancel(id, wid, reason ?? undefined, long === 1);
      }
    } catch (err) {
      this.ctx.logger.error('A malformed message on the queue channel was skipped', { error: err });
    }
  }

  private onList(list: (TaskRecord | string)[]): void {
    for (const entry of list) {
      if (typeof entry === 'string') this.ends.onEndedId(entry);
      else this.ends.onRecord(entry);
    }
  }
}
