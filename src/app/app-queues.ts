/**
 * The named queues of one app: its own (`name`, served by the engine it was given) and every
 * other queue it consumes (`queues`) or enqueues on (`@Task({ queue })`, `opts.queue`), each served
 * by a sibling broker and storage of the same engine, connected on first use.
 */
import type { Broker, EngineContext } from '../engine/broker';
import type { ResolvedQueueOptions } from '../engine/queue-options';
import type { Storage } from '../engine/storage';
import type { TaskRecord } from '../task/task-record';
import { checkPairing } from '../engine/pairing';
import { ClosedError, ErrorCodes, QTasksError } from '../errors';
import { closestName } from '../config/closest-name';
import { isQueueName } from '../engine/queue-options';

/** One queue of an app: its broker and storage, connected once on first use. */
export class AppQueue {
  private connected = false;
  private initPromise: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly broker: Broker,
    readonly storage: Storage,
    readonly options: ResolvedQueueOptions,
    private readonly ctx: EngineContext,
    private readonly isClosed: () => boolean,
  ) {}

  /** True once connected. */
  get isConnected(): boolean {
    return this.connected;
  }

  /** True once `init` was called (connected or connecting). */
  get isOpened(): boolean {
    return this.initPromise !== undefined;
  }

  /** Connects the storage, then the broker (once). */
  init(): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (this.isClosed()) return Promise.reject(new ClosedError('The app was used'));
    return (this.initPromise ??= (async () => {
      await this.storage.init(this.ctx);
      await this.broker.init(this.ctx);
      this.connected = true;
    })());
  }

  /** Closes the broker, then the storage (after a connection under way settled). */
  async close(): Promise<void> {
    if (this.initPromise) await this.initPromise.catch(() => undefined);
    await this.broker.close();
    await this.storage.close();
  }
}

/** What the queues of an app are made from. */
export interface AppQueuesParts {
  /** The app's own queue (its `name`) with the engine it was given. */
  readonly main: { name: string; broker: Broker; storage: Storage };
  /** Settings of every queue the app consumes, its own first. */
  readonly consumed: ReadonlyMap<string, ResolvedQueueOptions>;
  /** Settings of a queue the app only enqueues on. */
  readonly others: ResolvedQueueOptions;
  /** The engine context of `queue`. */
  context(queue: string, storage: Storage, options: ResolvedQueueOptions): EngineContext;
  /** Queues of the tasks registered so far. */
  taskQueues(): Iterable<string>;
  isClosed(): boolean;
}

/** Every queue an app uses, by name. */
export class AppQueues {
  /** The app's own queue. */
  readonly main: AppQueue;
  private readonly byName = new Map<string, AppQueue>();

  constructor(private readonly p: AppQueuesParts) {
    const { name, broker, storage } = p.main;
    const options = p.consumed.get(name)!;
    this.main = new AppQueue(name, broker, storage, options, p.context(name, storage, options), p.isClosed);
    this.byName.set(name, this.main);
    // an engine of one queue per app cannot consume the others: said at construction, not at start
    const other = [...p.consumed.keys()].find((q) => q !== name);
    if (other !== undefined && (broker.sibling === undefined || storage.sibling === undefined)) throw noSiblings(broker.engine, other);
  }

  /** Names of the queues this app consumes when started, its own first. */
  consumed(): string[] {
    return [...this.p.consumed.keys()];
  }

  /** True when `start()` consumes `name`. */
  consumes(name: string): boolean {
    return this.p.consumed.has(name);
  }

  /** Names of every queue this app knows: consumed, of a registered task, or opened. */
  known(): string[] {
    const names = new Set<string>(this.p.consumed.keys());
    for (const q of this.p.taskQueues()) names.add(q);
    for (const q of this.byName.keys()) names.add(q);
    return [...names];
  }

  /** Every queue opened so far (the app's own first). */
  opened(): AppQueue[] {
    return [...this.byName.values()];
  }

  /**
   * The queue `name` (made on first use from the engine's siblings). Throws
   * `QTASKS_ERR_UNSUPPORTED` when the engine serves one queue per app.
   */
  get(name: string): AppQueue {
    const known = this.byName.get(name);
    if (known !== undefined) return known;
    const main = this.main;
    if (main.broker.sibling === undefined || main.storage.sibling === undefined) throw noSiblings(main.broker.engine, name);
    const broker = main.broker.sibling();
    const storage = main.storage.sibling();
    checkPairing(broker, storage);
    const options = this.p.consumed.get(name) ?? this.p.others;
    const q = new AppQueue(name, broker, storage, options, this.p.context(name, storage, options), this.p.isClosed);
    this.byName.set(name, q);
    return q;
  }

  /**
   * The queue `name` when this app knows it (see `known`), else `QTASKS_ERR_UNKNOWN_QUEUE` naming
   * the closest known queue. `also` adds names known elsewhere (the engine's queues).
   */
  named(name: string, what: string, also: readonly string[] = []): AppQueue {
    if (this.byName.has(name)) return this.byName.get(name)!;
    const known = [...new Set([...this.known(), ...also])];
    if (!known.includes(name)) throw unknownQueue(name, what, known);
    return this.get(name);
  }

  /** Names of every queue the engine holds (its `queueNames`), or none when it cannot tell. */
  async engineNames(): Promise<string[]> {
    await this.main.init();
    const storage = this.main.storage;
    return storage.queueNames === undefined ? [] : storage.queueNames();
  }

  /**
   * The queue `name` (the app's own when undefined), connected. A name neither this app nor the
   * engine knows rejects `QTASKS_ERR_UNKNOWN_QUEUE` naming the closest; `what` names the call.
   */
  async resolve(name: string | undefined, what: string): Promise<AppQueue> {
    if (name === undefined || name === this.main.name) {
      await this.main.init();
      return this.main;
    }
    checkQueueName(name, what);
    if (!this.byName.has(name)) {
      const known = this.known();
      if (!known.includes(name)) {
        const engine = await this.engineNames();
        if (!engine.includes(name)) throw unknownQueue(name, what, [...new Set([...known, ...engine])]);
      }
    }
    const q = this.get(name);
    await q.init();
    return q;
  }

  /** Every queue this app knows, connected, its own first (`also`: more names, e.g. the engine's). */
  async connectedKnown(also: readonly string[] = []): Promise<AppQueue[]> {
    const names = [...new Set([...this.known(), ...also])];
    const out: AppQueue[] = [];
    for (const name of names) {
      const q = this.get(name);
      await q.init();
      out.push(q);
    }
    return out;
  }

  /**
   * The queue that holds task `id` and its record, looked up in every queue this app knows (its
   * own first); undefined when none has it.
   */
  async locate(id: string): Promise<{ queue: AppQueue; record: TaskRecord } | undefined> {
    // the app's own queue first, before the others are connected
    const main = this.main;
    await main.init();
    const own = await main.storage.get(id);
    if (own !== undefined) return { queue: main, record: own };
    for (const q of await this.connectedKnown()) {
      if (q === main) continue;
      const record = await q.storage.get(id);
      if (record !== undefined) return { queue: q, record };
    }
    return undefined;
  }

  /** True when this app uses one queue only (the common case: no lookups across queues). */
  get single(): boolean {
    return this.byName.size === 1 && this.known().length === 1;
  }

  /** Closes every queue but the app's own (the lifecycle closes that one last). */
  async closeOthers(): Promise<void> {
    await Promise.all(this.opened().filter((q) => q !== this.main).map((q) => q.close()));
  }
}

/** `QTASKS_ERR_UNKNOWN_QUEUE` for `name`, naming the closest of `known`. */
export function unknownQueue(name: string, what: string, known: readonly string[]): QTasksError {
  const near = closestName(String(name), known);
  return new QTasksError(
    ErrorCodes.UNKNOWN_QUEUE,
    `${what}: no queue is named ${JSON.stringify(name)}${near ? ` (did you mean "${near}"?)` : ''}; known queues: ${known.join(', ')}. ` +
      'A queue is known once an app consumes it (name, queues) or a registered task is pinned to it (@Task({ queue }))',
    { details: { queue: name, closest: near } },
  );
}

/** `name` when it is a usable queue name, else `QTASKS_ERR_BAD_OPTION` naming the call. */
export function checkQueueName(name: unknown, what: string): string {
  if (!isQueueName(name)) throw new QTasksError(ErrorCodes.BAD_OPTION, `${what}: queue must be a queue name (non-empty, without spaces or braces), got ${JSON.stringify(name) ?? typeof name}`);
  return name;
}

/** `QTASKS_ERR_UNSUPPORTED` for a second queue on an engine that serves one queue per app. */
function noSiblings(engine: string, queue: string): QTasksError {
  return new QTasksError(
    ErrorCodes.UNSUPPORTED,
    `Queue "${queue}": the ${engine} engine serves one queue per app (its broker or storage has no sibling()); make an app named "${queue}" for it`,
  );
}
