/**
 * The connections of one Redis engine (commands, subscriber, blocking pops), their options, the
 * Lua scripts, and `call`: a command that waits for the connection at most `connectTimeoutMs`
 * and then rejects with `QTASKS_ERR_BROKER_UNAVAILABLE` instead of hanging.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import IORedis, { ChainableCommander, Redis, RedisOptions } from 'ioredis';
import { BrokerUnavailableError } from '../../errors';

/** Connection options: a URL, or ioredis options (optionally with `url`). */
export type RedisConnectionInput = string | ({ url?: string } & Record<string, unknown>);

/** A script loaded from `lua/<name>-<numKeys>.lua`, called as `(keys, args)`. */
export type ScriptFn = (keys: string[], args: (string | number)[]) => Promise<unknown>;

interface ScriptDef {
  name: string;
  keys: number;
  lua: string;
}

let scriptCache: ScriptDef[] | undefined;

/** Every Lua script of the engine, read once per process. */
function loadScripts(): ScriptDef[] {
  if (scriptCache) return scriptCache;
  const dir = join(__dirname, 'lua');
  scriptCache = readdirSync(dir)
    .filter((f) => f.endsWith('.lua'))
    .map((f) => {
      const m = /^(.+)-(\d+)\.lua$/.exec(f);
      if (!m) throw new Error(`Lua script ${f} must be named <command>-<numKeys>.lua`);
      return { name: m[1], keys: Number(m[2]), lua: readFileSync(join(dir, f), 'utf8') };
    });
  const names = new Set<string>();
  for (const s of scriptCache) {
    if (names.has(s.name)) throw new Error(`Two Lua scripts named ${s.name} in ${dir}: remove the stale one`);
    names.add(s.name);
  }
  return scriptCache;
}

const CONNECTION_ERRORS = /Connection is closed|isn't writeable|MaxRetriesPerRequest|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Socket closed|LOADING/i;

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
  private closed = false;
  private readyWaiters: (() => void)[] = [];

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
      this.scripts.set(s.name, (keys, args) => method(...keys, ...args));
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
   * the pipeline is executed.
   */
  scriptOn(pipe: ChainableCommander, name: string): ScriptFn {
    const method = (pipe as unknown as Record<string, (...a: unknown[]) => unknown>)['qt_' + name];
    return (keys, args) =>
      new Promise((resolve, reject) => {
        method.call(pipe, ...keys, ...args, (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res)));
      });
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
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        reject(new BrokerUnavailableError(`${what}: Redis could not be reached within ${this.connectTimeoutMs} ms (connectTimeoutMs); is it running?`));
      }, this.connectTimeoutMs);
      const attempt = (): void => {
        if (done) return;
        if (this.closed) {
          done = true;
          clearTimeout(timer);
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
            clearTimeout(timer);
            resolve(v);
          },
          (err) => {
            if (done) return;
            if (isConnectionError(err)) return void setTimeout(attempt, 10);
            done = true;
            clearTimeout(timer);
            reject(err);
          },
        );
      };
      attempt();
    });
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
    else {
      const { url, ...rest } = input;
      conn = url ? new IORedis(url, { ...(rest as RedisOptions), ...options }) : new IORedis({ ...(rest as RedisOptions), ...options });
    }
    conn.on('error', () => undefined); // reconnects by itself; callers see BrokerUnavailableError
    return conn;
  }
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
