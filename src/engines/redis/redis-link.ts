/**
 * The connections of one Redis engine (commands, subscriber, blocking pops), their options, the
 * Lua scripts, and `call`: a command that waits for the connection at most `connectTimeoutMs`
 * and then rejects with `QTASKS_ERR_BROKER_UNAVAILABLE` instead of hanging.
 */
import IORedis, { ChainableCommander, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { BrokerUnavailableError } from '../../errors';
import { describeTarget, failureReason } from './connection-failure';
import { loadScripts } from './lua-scripts';
import { CallDeadlines } from './call-deadlines';
import { directScript, ScriptFn } from './script-calls';

/** One node of a Redis Cluster to start from (the others are discovered). */
export interface RedisClusterNode {
  host: string;
  port: number;
}

/**
 * Connection options: a URL, or ioredis options (optionally with `url`), or a Redis Cluster:
 * `{ cluster: [{ host, port }, …], clusterOptions?, …node options }` (every queue's keys share
 * one hash tag, so each queue lives on one slot and its scripts never cross slots).
 */
export type RedisConnectionInput = string | ({ url?: string; cluster?: RedisClusterNode[]; clusterOptions?: ClusterOptions } & RedisDurability & Record<string, unknown>);

/**
 * Durable enqueue: Redis replicates asynchronously, so a task acknowledged by a master that dies
 * a moment later can be lost with it. With `waitReplicas: n`, an enqueue resolves only once `n`
 * replicas hold it (Redis `WAIT`), or rejects `QTASKS_ERR_BROKER_UNAVAILABLE` after
 * `waitTimeoutMs` (default 1000) saying how many did; the task itself stays queued on the master.
 */
export interface RedisDurability {
  waitReplicas?: number;
  waitTimeoutMs?: number;
}

/** For a reply nobody waits for (the PING of {@link RedisLink.scriptThen}: its call fails with it). */
const ignore = (): void => undefined;

/** A script loaded from `lua/<name>-<numKeys>.lua`, called as `(keys, args)`. */
export type { ScriptFn } from './script-calls';

// CLUSTERDOWN, TRYAGAIN, READONLY and a failed slot refresh are passing states of a cluster failover
const CONNECTION_ERRORS = /Connection is closed|isn't writeable|MaxRetriesPerRequest|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Socket closed|LOADING|CLUSTERDOWN|TRYAGAIN|READONLY|refresh slots cache|startup nodes|Too many Cluster redirections/i;

/** A Redis Cluster redirection (the command is sent again to the node named). */
const REDIRECTED = /^(MOVED|ASK) \d+ /;

/** True for an error caused by a lost or missing connection (worth a retry once connected). */
export function isConnectionError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'MaxRetriesPerRequestError' || CONNECTION_ERRORS.test(err.message));
}

/** Owns the connections of one engine; shared by its broker and storage. */
export class RedisLink {
  /** Commands and scripts. */
  readonly cmd: Redis;
  private subConn: Redis | undefined;
  private readonly blockers = new Set<Redis>();
  private readonly scripts = new Map<string, ScriptFn>();
  /** The scripts of the other connections (blocking ones), made on first use. */
  private readonly scriptsOn = new WeakMap<Redis, Map<string, ScriptFn>>();
  private closed = false;
  /** The last connection error seen, cleared once connected (for BrokerUnavailableError). */
  private lastError: Error | undefined;
  private readyWaiters: (() => void)[] = [];
  /** The deadlines of the calls in flight, under one timer. */
  private readonly deadlines = new CallDeadlines();

  constructor(
    private readonly input: RedisConnectionInput,
    readonly connectTimeoutMs: number,
  ) {
    this.cmd = this.connect('cmd', { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    this.cmd.on('ready', () => {
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const w of waiters) w();
    });
    for (const s of loadScripts()) {
      this.cmd.defineCommand('qt_' + s.name, { numberOfKeys: s.keys, lua: s.lua });
      const method = (this.cmd as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)['qt_' + s.name].bind(this.cmd);
      const viaIoredis: ScriptFn = (keys, args) => method(...keys, ...args);
      this.scripts.set(s.name, this.isCluster ? viaIoredis : directScript(this.cmd, s, viaIoredis));
    }
  }

  /** True on a Redis Cluster. */
  get isCluster(): boolean {
    return typeof this.input !== 'string' && this.input.cluster !== undefined;
  }

  /** Replicas an enqueue waits for (0: none). */
  get waitReplicas(): number {
    return typeof this.input === 'string' ? 0 : Number(this.input.waitReplicas ?? 0);
  }

  /**
   * Waits until the replicas hold every write made so far on the connection serving `key`'s slot
   * (`WAIT`, sent with a read of `key` so that a cluster routes it to that slot's master).
   */
  async confirmReplicas(key: string, ids: string[]): Promise<void> {
    const want = this.waitReplicas;
    const ms = typeof this.input === 'string' ? 1000 : Number(this.input.waitTimeoutMs ?? 1000);
    const res = await this.callWithin(this.connectTimeoutMs + ms, 'addTask (WAIT for replicas)', (r) => r.pipeline().exists(key).call('WAIT', want, ms).exec());
    const got = Number(res?.[1]?.[1] ?? 0);
    if (got < want) {
      throw new BrokerUnavailableError(
        `Task ${ids.join(', ')} was enqueued, but only ${got} of ${want} replicas confirmed it within ${ms} ms (waitReplicas, waitTimeoutMs): it may be lost if its master fails now`,
      );
    }
  }

  /** The script `name` (its file is `lua/<name>-<n>.lua`). */
  script(name: string): ScriptFn {
    const fn = this.scripts.get(name);
    if (!fn) throw new Error(`No Lua script named ${name}`);
    return fn;
  }

  /**
   * The script `name` queued on `pipe`: sent with the pipeline's other commands in one write when
   * the pipeline is executed. On a Redis Cluster, a pipeline redirected by MOVED or ASK (a
   * failover, a slot that moved) runs its commands again on the node named, but answers each
   * command's own callback with the first reply, the redirection: the call then takes its reply
   * from the pipeline's results, which hold the answer of the node that ran it (else a caller would
   * take for failed a call that ran).
   */
  scriptOn(pipe: ChainableCommander, name: string): ScriptFn {
    const method = (pipe as unknown as Record<string, (...a: unknown[]) => unknown>)['qt_' + name];
    const cluster = this.isCluster;
    return (keys, args) =>
      new Promise((resolve, reject) => {
        const at = pipe.length;
        method.call(pipe, ...keys, ...args, (err: Error | null, res: unknown) => {
          if (err && cluster && REDIRECTED.test(err.message)) {
            const all = (pipe as unknown as { promise: Promise<[Error | null, unknown][]> }).promise;
            all.then((replies) => {
              const [e, r] = replies[at] ?? [err, undefined];
              if (e) reject(e);
              else resolve(r);
            }, reject);
            return;
          }
          if (err) reject(err);
          else resolve(res);
        });
      });
  }

  /** The script `name` sent on `conn` (one of this link's connections, e.g. a blocking one). */
  scriptVia(conn: Redis, name: string): ScriptFn {
    const method = this.defineOn(conn, name);
    return (keys, args) => method.call(conn, ...keys, ...args);
  }

  /**
   * Sends the script `name` on `conn`, then whatever `then` sends on `conn`, in one write: the
   * socket is corked meanwhile. Unlike a pipeline this makes no pipeline object per call (a worker
   * makes one call per task when it waits idle), and each command keeps its own reply. For a single
   * connection only: a cluster client's commands go to several sockets (use {@link pipelineOn}).
   *
   * A PING goes first in the same write, so that what the script publishes reaches its subscribers
   * before the script's reply reaches `conn`: Redis writes the replies of one turn of its event loop
   * to the clients newest first, and a caller whose PING was answered earlier in that turn is older
   * than the subscribers the script's PUBLISH gives a message (without it, the end a worker
   * publishes waits for Redis to write the worker its reply first).
   */
  scriptThen(conn: Redis, name: string, keys: string[], args: (string | number)[], then: () => void): Promise<unknown> {
    const script = this.scriptOnConn(conn, name);
    const stream = conn.stream;
    stream.cork();
    try {
      conn.ping().catch(ignore);
      const call = script(keys, args);
      then();
      return call;
    } finally {
      stream.uncork();
    }
  }

  /** The script `name` on `conn`, a single connection of this link (see {@link directScript}). */
  private scriptOnConn(conn: Redis, name: string): ScriptFn {
    let scripts = this.scriptsOn.get(conn);
    if (scripts === undefined) this.scriptsOn.set(conn, (scripts = new Map()));
    let fn = scripts.get(name);
    if (fn === undefined) {
      const method = this.defineOn(conn, name);
      const def = loadScripts().find((x) => x.name === name)!;
      fn = directScript(conn, def, (keys, args) => method.call(conn, ...keys, ...args));
      scripts.set(name, fn);
    }
    return fn;
  }

  /** A pipeline of `conn` on which the script `name` can be queued (see {@link scriptOn}). */
  pipelineOn(conn: Redis, name: string): ChainableCommander {
    this.defineOn(conn, name);
    return conn.pipeline();
  }

  private defineOn(conn: Redis, name: string): (...a: unknown[]) => Promise<unknown> {
    const key = 'qt_' + name;
    const own = conn as unknown as Record<string, ((...a: unknown[]) => Promise<unknown>) | undefined>;
    if (own[key] === undefined) {
      const s = loadScripts().find((x) => x.name === name);
      if (!s) throw new Error(`No Lua script named ${name}`);
      conn.defineCommand(key, { numberOfKeys: s.keys, lua: s.lua });
    }
    return own[key]!;
  }

  /** The subscriber connection (made on first use). */
  get sub(): Redis {
    // no ready check (INFO): a SUBSCRIBE written while connecting puts the connection in subscriber
    // mode before the check runs, and the check then fails
    return (this.subConn ??= this.connect('sub', { enableOfflineQueue: true, maxRetriesPerRequest: null, enableReadyCheck: false }));
  }

  /** A new connection for blocking pops; closed by {@link release} or {@link close}. */
  blocker(): Redis {
    const conn = this.connect('block', { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    this.blockers.add(conn);
    return conn;
  }

  release(conn: Redis): void {
    this.blockers.delete(conn);
    conn.disconnect();
  }

  get isReady(): boolean {
    return this.cmd.status === 'ready';
  }

  /** Resolves once the command connection is ready (at once when it is). */
  whenReady(): Promise<void> {
    if (this.isReady) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /**
   * Runs `fn` on the command connection, waiting for it (and retrying after a dropped
   * connection) at most `connectTimeoutMs`; then rejects `QTASKS_ERR_BROKER_UNAVAILABLE`.
   */
  call<T>(what: string, fn: (r: Redis) => Promise<T>): Promise<T> {
    return this.callWithin(this.connectTimeoutMs, what, fn);
  }

  private callWithin<T>(limitMs: number, what: string, fn: (r: Redis) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const entry = this.deadlines.watch(limitMs, () => {
        done = true;
        reject(this.unreachable(what));
      });
      const attempt = (): void => {
        if (done) return;
        if (this.closed) {
          done = true;
          this.deadlines.settle(entry);
          reject(new BrokerUnavailableError(`${what}: the Redis engine is closed`));
          return;
        }
        if (!this.isReady) {
          this.readyWaiters.push(attempt);
          return;
        }
        fn(this.cmd).then(
          (v) => {
            if (done) return;
            done = true;
            this.deadlines.settle(entry);
            resolve(v);
          },
          (err) => {
            if (done) return;
            if (isConnectionError(err)) return void setTimeout(attempt, 10);
            done = true;
            this.deadlines.settle(entry);
            reject(err);
          },
        );
      };
      attempt();
    });
  }

  /** The error of a call that found no connection in time: where, and the cause last seen. */
  private unreachable(what: string): BrokerUnavailableError {
    const target = describeTarget(this.input);
    const { reason, text } = failureReason(this.lastError);
    return new BrokerUnavailableError(
      `${what}: Redis at ${target} could not be reached within ${this.connectTimeoutMs} ms (connectTimeoutMs): ${text}`,
      this.lastError,
      { target, reason },
    );
  }

  /** Quits every connection; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
    for (const b of this.blockers) b.disconnect();
    this.blockers.clear();
    const conns = [this.cmd, this.subConn].filter((c): c is Redis => c !== undefined);
    await Promise.all(conns.map((c) => quit(c)));
  }

  private connect(role: string, extra: RedisOptions): Redis {
    const timeout = this.connectTimeoutMs;
    const options: RedisOptions = {
      connectTimeout: Math.max(100, timeout),
      retryStrategy: (times: number) => Math.min(20 * times, 500),
      enableReadyCheck: true,
      connectionName: `qtasks:${role}:${process.pid}`,
      ...extra,
    };
    const input = this.input;
    let conn: Redis;
    if (typeof input === 'string') conn = new IORedis(input, options);
    else if (input.cluster !== undefined) conn = connectCluster(input.cluster, input, options);
    else {
      const { url, waitReplicas: _w, waitTimeoutMs: _wt, ...rest } = input;
      conn = url ? new IORedis(url, { ...(rest as RedisOptions), ...options }) : new IORedis({ ...(rest as RedisOptions), ...options });
    }
    // reconnects by itself; callers see BrokerUnavailableError, which tells the last cause
    conn.on('error', (err: Error) => (this.lastError = err));
    conn.on('ready', () => (this.lastError = undefined));
    return conn;
  }
}

/**
 * A Redis Cluster client. It speaks every command the engine uses with the same signatures as a
 * single connection (scripts, pipelines and transactions stay on the queue's one slot), so the
 * engine holds it under the single-connection type.
 */
function connectCluster(nodes: RedisClusterNode[], input: Record<string, unknown>, options: RedisOptions): Redis {
  const { cluster: _nodes, clusterOptions, url: _url, waitReplicas: _w, waitTimeoutMs: _wt, ...nodeOptions } = input;
  const { enableOfflineQueue, maxRetriesPerRequest: _m, ...perNode } = options;
  const cluster = new IORedis.Cluster(nodes, {
    ...(clusterOptions as ClusterOptions | undefined),
    enableOfflineQueue,
    enableReadyCheck: true,
    clusterRetryStrategy: (times: number) => Math.min(20 * times, 500),
    // a failover answers CLUSTERDOWN / TRYAGAIN for a moment: let ioredis follow it a while
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    retryDelayOnFailover: 100,
    redisOptions: { ...(nodeOptions as RedisOptions), ...perNode, maxRetriesPerRequest: options.maxRetriesPerRequest },
  });
  return cluster as unknown as Redis;
}

async function quit(conn: Redis): Promise<void> {
  if (conn.status === 'end') return;
  if (conn.status !== 'ready') {
    conn.disconnect();
    return;
  }
  try {
    await Promise.race([conn.quit(), new Promise((r) => setTimeout(r, 500).unref())]);
  } catch {
    // already gone
  }
  conn.disconnect();
}
