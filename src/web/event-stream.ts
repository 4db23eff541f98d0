/**
 * Server-sent events of the web view (`GET /api/events`): task events as they happen and a queue
 * snapshot (counts, workers, paused) every `refreshMs`. The app's events are listened to only while
 * a client is connected, so an idle web view costs the engine nothing.
 *
 * Memory stays flat whatever the clients do: at most `maxClients` streams at once (one more gets
 * 503), and a client that does not read what it is sent is dropped once more than
 * {@link MAX_BUFFERED_BYTES} wait for it (a page that reconnects gets a fresh snapshot anyway).
 * Events of one turn of the event loop go out as one write.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppEventMap } from '../app/app-events';
import type { WebHost } from './web-host';
import { ErrorCodes } from '../errors';
import { HttpError } from './http-error';

/** The task events pushed to clients. */
const TASK_EVENTS = ['task:success', 'task:error', 'task:retry', 'task:cancel', 'task:progress'] as const;
type TaskEvent = (typeof TASK_EVENTS)[number];

/** Bytes that may wait in the server for one client before it is dropped as not reading. */
export const MAX_BUFFERED_BYTES = 256 * 1024;

/** Most bytes of events held for the end of a turn before they are written anyway. */
const MAX_BATCH_BYTES = 64 * 1024;

/** What the queue snapshot holds. */
export type QueueSnapshot = (app: WebHost) => Promise<unknown>;

/** Fans events out to every connected client. */
export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly listeners = new Map<TaskEvent, (payload: AppEventMap[TaskEvent]) => void>();
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private ticking = false;
  /** Frames of this turn of the event loop, written to every client at once when it ends. */
  private queued: string[] = [];
  private queuedBytes = 0;
  private flushing: NodeJS.Immediate | undefined;

  constructor(
    private readonly app: WebHost,
    private readonly snapshot: QueueSnapshot,
    private readonly refreshMs: number,
    private readonly maxClients: number,
  ) {}

  /** Number of connected clients. */
  get size(): number {
    return this.clients.size;
  }

  /** Takes over a request as an event stream; throws a 503 HttpError when `maxClients` are connected. */
  open(req: IncomingMessage, res: ServerResponse): void {
    if (this.clients.size >= this.maxClients) {
      throw new HttpError(503, ErrorCodes.WEB_BUSY, `The web view serves ${this.maxClients} live pages at most (web.maxClients): close one, or raise the limit`);
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    const drop = () => this.drop(res);
    req.on('close', drop);
    res.on('close', drop);
    res.on('error', drop);
    if (this.clients.size === 1) this.attach();
    void this.sendSnapshot(res);
  }

  /** Ends every stream and stops listening. */
  close(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = undefined;
    this.queued = [];
    this.queuedBytes = 0;
    for (const res of [...this.clients]) {
      this.clients.delete(res);
      res.end();
    }
    this.detach();
  }

  private drop(res: ServerResponse): void {
    if (!this.clients.delete(res)) return;
    if (this.clients.size === 0) this.detach();
  }

  private attach(): void {
    for (const event of TASK_EVENTS) {
      const listener = (payload: AppEventMap[TaskEvent]) => this.broadcast('task', summarize(event, payload));
      this.listeners.set(event, listener);
      this.app.on(event, listener);
    }
    this.timer = setInterval(() => void this.tick(), this.refreshMs);
    this.heartbeat = setInterval(() => this.comment('ping'), 15_000);
  }

  private detach(): void {
    for (const [event, listener] of this.listeners) this.app.off(event, listener);
    this.listeners.clear();
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.timer = undefined;
    this.heartbeat = undefined;
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.clients.size === 0) return;
    this.ticking = true;
    try {
      this.broadcast('queue', await this.snapshot(this.app));
    } catch (err) {
      this.broadcast('problem', { code: (err as { code?: string }).code, message: (err as Error).message });
    } finally {
      this.ticking = false;
    }
  }

  private async sendSnapshot(res: ServerResponse): Promise<void> {
    try {
      const data = await this.snapshot(this.app);
      this.send(res, frame('queue', data));
    } catch (err) {
      this.send(res, frame('problem', { code: (err as { code?: string }).code, message: (err as Error).message }));
    }
  }

  private broadcast(event: string, data: unknown): void {
    // one write per client per turn, however many tasks ended in it: fewer syscalls and far fewer
    // buffered chunks (each costs more than its bytes) for a client that reads slowly
    const text = frame(event, data);
    this.queued.push(text);
    this.queuedBytes += text.length;
    // a turn that never ends (tasks finishing in microtasks only) must not grow the queue either
    if (this.queuedBytes >= MAX_BATCH_BYTES) this.flush();
    else this.flushing ??= setImmediate(() => this.flush());
  }

  private flush(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = undefined;
    const text = this.queued.join('');
    this.queued = [];
    this.queuedBytes = 0;
    if (text === '') return;
    for (const res of [...this.clients]) this.send(res, text);
  }

  private comment(text: string): void {
    for (const res of [...this.clients]) this.send(res, `: ${text}\n\n`);
  }

  /** Writes to one client, or drops it when it has left too much unread. */
  private send(res: ServerResponse, text: string): void {
    if (!this.clients.has(res)) return;
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      this.drop(res);
      res.destroy();
      return;
    }
    res.write(text);
  }
}

/** One event as text; data that JSON cannot hold (a BigInt in a progress value) becomes a `problem`. */
function frame(event: string, data: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (err) {
    return `event: problem\ndata: ${JSON.stringify({ code: ErrorCodes.NOT_SERIALIZABLE, message: `A ${event} event could not be sent: ${(err as Error).message}` })}\n\n`;
  }
  return `event: ${event}\ndata: ${json ?? 'null'}\n\n`;
}

/** The small form of a task event sent to the page (it fetches details when it needs them). */
function summarize(event: TaskEvent, payload: AppEventMap[TaskEvent]): Record<string, unknown> {
  if ('record' in payload) {
    const r = payload.record;
    return { type: event, id: r.id, name: r.name, status: r.status, attempt: r.attempt };
  }
  return { type: event, id: payload.id, name: payload.name, progress: payload.progress };
}
