/**
 * One AMQP connection of the RabbitMQ broker: a confirm channel for publishing and a channel for
 * consuming, re-opened after the connection is lost (backoff up to 2 s), with the broker's topology
 * and subscriptions set up again each time. Callers wait for the link at most `connectTimeoutMs`,
 * then fail `QTASKS_ERR_BROKER_UNAVAILABLE`.
 */
import { connect } from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, Options } from 'amqplib';
import { ErrorCodes, QTasksError } from '../../errors';
import type { Logger } from '../../logger';

/** The open channels of one connection; `gen` counts connections (a delivery belongs to one). */
export interface LinkChannels {
  pub: ConfirmChannel;
  sub: Channel;
  gen: number;
}

/** A self-healing AMQP connection. */
export class AmqpLink {
  private current: LinkChannels | undefined;
  /** Channels whose topology is being declared (deliveries may arrive on them already). */
  private settingUp: LinkChannels | undefined;
  private conn: ChannelModel | undefined;
  private gen = 0;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 100;
  private waiters: (() => void)[] = [];
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    /** Connection name shown by RabbitMQ (`rabbitmqctl list_connections client_properties`). */
    private readonly name: string,
    /** Declares the topology and subscribes, on each new connection. */
    private readonly setup: (ch: LinkChannels) => Promise<void>,
  ) {}

  /** Generation of the open connection (0 when down). */
  get generation(): number {
    return this.current?.gen ?? 0;
  }

  /** First connection; rejects `QTASKS_ERR_BROKER_UNAVAILABLE` when RabbitMQ cannot be reached in time. */
  async start(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /** The open channels now, undefined while disconnected. */
  channelsNow(): LinkChannels | undefined {
    return this.current ?? this.settingUp;
  }

  /** The open channels, waiting for a reconnection at most `connectTimeoutMs`. */
  channels(): Promise<LinkChannels> {
    if (this.current) return Promise.resolve(this.current);
    if (this.closed) return Promise.reject(new QTasksError(ErrorCodes.CLOSED, 'The RabbitMQ broker is closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        reject(this.unavailable(undefined));
      }, this.timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        if (this.current) resolve(this.current);
        else reject(new QTasksError(ErrorCodes.CLOSED, 'The RabbitMQ broker is closed'));
      };
      this.waiters.push(wake);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.connecting?.catch(() => undefined);
    const conn = this.conn;
    this.conn = undefined;
    this.current = undefined;
    for (const w of this.waiters.splice(0)) w();
    if (conn) await conn.close().catch(() => undefined);
  }

  private open(): Promise<void> {
    return (this.connecting ??= this.openOnce().finally(() => (this.connecting = undefined)));
  }

  private async openOnce(): Promise<void> {
    const conn = await deadline(connect(this.url, { timeout: this.timeoutMs, noDelay: true, clientProperties: { connection_name: this.name } } as Options.Connect), this.timeoutMs);
    if (this.closed) {
      await conn.close().catch(() => undefined);
      return;
    }
    conn.on('error', () => undefined);
    conn.on('close', () => this.lost(conn));
    coalesceWrites(conn);
    try {
      const pub = await conn.createConfirmChannel();
      const sub = await conn.createChannel();
      for (const ch of [pub, sub]) {
        ch.on('error', (err: Error) => this.logger.warn('RabbitMQ channel error', { error: err.message }));
        // a channel closed by the server (e.g. a failed declare): start over on a new connection
        ch.on('close', () => {
          if (this.conn === conn) conn.close().catch(() => undefined);
        });
      }
      const ch: LinkChannels = { pub, sub, gen: ++this.gen };
      this.conn = conn;
      this.settingUp = ch;
      await this.setup(ch);
      this.settingUp = undefined;
      if (this.conn !== conn) throw new Error('connection lost while setting up');
      this.current = ch;
      this.retryDelay = 100;
      for (const w of this.waiters.splice(0)) w();
    } catch (err) {
      this.settingUp = undefined;
      await conn.close().catch(() => undefined);
      throw err;
    }
  }

  private lost(conn: ChannelModel): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.current = undefined;
    this.settingUp = undefined;
    if (this.closed) return;
    this.logger.warn('RabbitMQ connection lost: reconnecting');
    this.retry();
  }

  private retry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.open().catch((err: Error) => {
        this.retryDelay = Math.min(2_000, this.retryDelay * 2);
        this.logger.warn('RabbitMQ reconnection failed: retrying', { error: err.message, inMs: this.retryDelay });
        if (!this.closed) this.retry();
      });
    }, this.retryDelay);
  }

  private unavailable(err: unknown): QTasksError {
    const why = err instanceof Error ? `: ${err.message}` : '';
    return new QTasksError(
      ErrorCodes.BROKER_UNAVAILABLE,
      `RabbitMQ at ${redact(this.url)} is unreachable (no connection within connectTimeoutMs = ${this.timeoutMs} ms)${why}`,
    );
  }
}

/** What {@link coalesceWrites} reaches of amqplib's connection (not part of its typed API). */
interface FrameMux {
  out?: { cork?: () => void; uncork?: () => void };
  _readIncoming?: () => void;
}

/**
 * amqplib writes each frame of a turn to the socket on its own (one system call per published
 * message or ack); corked around its write loop, the frames of a turn leave in one write. Nothing
 * changes when amqplib's internals differ from what is expected.
 */
function coalesceWrites(conn: ChannelModel): void {
  const mux = (conn as unknown as { connection?: { muxer?: FrameMux } }).connection?.muxer;
  const out = mux?.out;
  const read = mux?._readIncoming;
  if (!mux || typeof read !== 'function' || typeof out?.cork !== 'function' || typeof out.uncork !== 'function') return;
  mux._readIncoming = function (this: FrameMux): void {
    out.cork!();
    try {
      read.call(this);
    } finally {
      out.uncork!();
    }
  };
}

/** Rejects when `p` has not settled within `ms`. */
function deadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error('timed out'));
      // a connection that opens too late is closed at once
      p.then((v) => (v as { close?: () => Promise<void> }).close?.().catch(() => undefined), () => undefined);
    }, ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
