/**
 * The connections of one PostgreSQL engine: a pool for statements (the engine's own, or one the
 * user passed in) and one client held out of it for LISTEN. `query` waits for a connection at most
 * `connectTimeoutMs`, retrying on a lost connection (every statement the engine sends is safe to
 * send again), then rejects `QTASKS_ERR_BROKER_UNAVAILABLE`. The listener reconnects by itself and
 * tells its owner, which then re-reads what it may have missed. Tables are made on first use.
 */
import { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { BrokerUnavailableError, ClosedError } from '../../errors';
import type { Logger } from '../../logger';
import { ensureSchema } from './migrate';
import type { PostgresEngineOptions } from './pg-options';

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '53300']);
const CONNECTION_TEXT = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|not queryable|terminating connection/i;

/** True for an error caused by a lost or missing connection (worth sending again once connected). */
export function isConnectionError(err: unknown): boolean {
  // not instanceof Error: socket errors may come from another realm (test runners, vm contexts)
  if (err === null || typeof err !== 'object') return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  return typeof message === 'string' && CONNECTION_TEXT.test(message);
}

/** Receives each notification of a channel. */
export type NotificationHandler = (payload: string) => void;

/** Owns the pool and the listening client of one engine. */
export class PgLink {
  readonly pool: Pool;
  /** The schema name, quoted for SQL. */
  readonly s: string;
  readonly schema: string;
  private readonly ownPool: boolean;
  private schemaReady: Promise<void> | undefined;
  private closed = false;
  private listener: PoolClient | undefined;
  private listening: Promise<void> | undefined;
  private readonly channels = new Map<string, NotificationHandler>();
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Bumped each time the listening connection drops (notifications may have been lost). */
  epoch = 0;
  /** True while LISTEN is known to be up on every channel. */
  listenLive = false;
  /** Called after the listener came back from a drop. */
  onRelisten: (() => void)[] = [];

  constructor(
    options: PostgresEngineOptions,
    readonly connectTimeoutMs: number,
    private readonly logger: Logger,
  ) {
    this.schema = options.schema ?? 'qtasks';
    this.s = '"' + this.schema + '"';
    if (options.pool) {
      this.pool = options.pool;
      this.ownPool = false;
    } else {
      this.pool = new Pool({
        connectionString: options.connectionString,
        max: options.poolSize ?? 8,
        connectionTimeoutMillis: connectTimeoutMs,
        idleTimeoutMillis: 10_000,
      });
      this.ownPool = true;
    }
    // an idle client whose connection dies emits here; the pool drops it and makes a new one
    this.pool.on('error', (err) => this.logger.debug('An idle PostgreSQL connection failed', { error: err }));
  }

  /** Resolves once the schema's tables exist (made now if needed). */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('PostgreSQL engine used'));
    return (this.schemaReady ??= this.withDeadline('Creating the tables', () => ensureSchema(this.pool, this.schema)).then(() => undefined, (err) => {
      this.schemaReady = undefined;
      throw err;
    }));
  }

  /** Runs a statement; retries a lost connection until `connectTimeoutMs`, then `BROKER_UNAVAILABLE`. */
  async query<R extends QueryResultRow = QueryResultRow>(what: string, text: string, params?: unknown[]): Promise<QueryResult<R>> {
    if (this.closed) throw new ClosedError(what);
    if (this.schemaReady === undefined) await this.ready();
    else await this.schemaReady;
    return this.withDeadline(what, () => this.pool.query<R>(text, params));
  }

  private async withDeadline<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const until = Date.now() + this.connectTimeoutMs;
    let pause = 20;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        if (this.closed) throw new ClosedError(what);
        if (Date.now() + pause >= until) {
          throw new BrokerUnavailableError(`${what}: PostgreSQL could not be reached within ${this.connectTimeoutMs} ms (connectTimeoutMs): ${(err as Error).message}`, err);
        }
        await new Promise((r) => setTimeout(r, pause));
        pause = Math.min(pause * 2, 250);
      }
    }
  }

  /** Listens on `channel` (its name as given to pg_notify); resolves once LISTEN is up. */
  listen(channel: string, handler: NotificationHandler): Promise<void> {
    this.channels.set(channel, handler);
    if (this.listener) return this.listener.query(`LISTEN "${channel}"`).then(() => undefined);
    return this.connectListener();
  }

  private connectListener(): Promise<void> {
    return (this.listening ??= (async () => {
      try {
        await this.ready();
        const client = await this.withDeadline('Listening for notifications', () => this.pool.connect());
        if (this.closed) {
          client.release(true);
          return;
        }
        client.on('notification', (msg) => {
          const h = this.channels.get(msg.channel);
          if (h !== undefined && msg.payload !== undefined) h(msg.payload);
        });
        const lost = (err?: Error) => this.listenerLost(client, err);
        client.on('error', lost);
        client.on('end', () => lost());
        for (const ch of this.channels.keys()) await client.query(`LISTEN "${ch}"`);
        this.listener = client;
        this.listenLive = true;
      } finally {
        this.listening = undefined;
      }
    })());
  }

  private listenerLost(client: PoolClient, err?: Error): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    this.listenLive = false;
    this.epoch++;
    try {
      client.release(err ?? true);
    } catch {
      // released already
    }
    if (this.closed) return;
    this.logger.debug('The PostgreSQL listening connection dropped; reconnecting', { error: err });
    this.scheduleRelisten(50);
  }

  private scheduleRelisten(ms: number): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connectListener().then(
        () => {
          for (const f of this.onRelisten) f();
        },
        () => this.scheduleRelisten(Math.min(ms * 2, 1_000)),
      );
    }, ms);
  }

  /** Releases the listener and ends the engine's own pool (a pool passed in stays open). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.listening) await this.listening.catch(() => undefined);
    const l = this.listener;
    this.listener = undefined;
    this.listenLive = false;
    if (l) {
      if (!this.ownPool) await l.query('UNLISTEN *').catch(() => undefined);
      l.release(this.ownPool);
    }
    if (this.ownPool) await this.pool.end().catch(() => undefined);
  }
}
